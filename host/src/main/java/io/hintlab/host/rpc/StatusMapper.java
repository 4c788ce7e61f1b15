package io.hintlab.host.rpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.hintlab.host.device.BalloonException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that turns domain errors into gRPC statuses (device.proto's table). Descriptions
 * are the exception messages; stack traces never leave the host.
 */
public final class StatusMapper {
  private static final Logger LOG = LoggerFactory.getLogger(StatusMapper.class);

  private StatusMapper() {}

  /** The status code for a reason. */
  public static Status.Code code(BalloonException.Reason reason) {
    return switch (reason) {
      case UNAUTHENTICATED -> Status.Code.UNAUTHENTICATED;
      case MALFORMED_REQUEST, MALFORMED_RANGE, ORDER_TOO_LARGE, OVERLAPPING_RANGES,
          UNKNOWN_FEATURE, FEATURE_NOT_OFFERED -> Status.Code.INVALID_ARGUMENT;
      case RANGE_OUT_OF_BOUNDS -> Status.Code.OUT_OF_RANGE;
      case FEATURE_NOT_NEGOTIATED, WRONG_STATE -> Status.Code.FAILED_PRECONDITION;
      case TOO_MANY_ENTRIES, TOO_MANY_GUESTS -> Status.Code.RESOURCE_EXHAUSTED;
      case GUEST_NOT_FOUND -> Status.Code.NOT_FOUND;
      case GUEST_UNRESPONSIVE -> Status.Code.DEADLINE_EXCEEDED;
      case HOST_FAILURE -> Status.Code.INTERNAL;
    };
  }

  /** Maps any throwable a service method let escape. */
  public static StatusRuntimeException toStatus(Throwable t) {
    if (t instanceof BalloonException be) {
      return Status.fromCode(code(be.reason())).withDescription(be.getMessage())
          .asRuntimeException();
    }
    if (t instanceof StatusRuntimeException sre) {
      return sre;
    }
    if (t instanceof IllegalArgumentException iae) {
      return Status.INVALID_ARGUMENT.withDescription(iae.getMessage()).asRuntimeException();
    }
    LOG.error("host: internal error", t);
    return Status.INTERNAL.withDescription("internal error: " + t.getClass().getSimpleName())
        .asRuntimeException();
  }
}
