package io.hintlab.host.lab;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.hintlab.proto.v1.HostControlGrpc;
import io.hintlab.proto.v1.ListGuestsRequest;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Readiness check of a host process: the control service answers {@code ListGuests} within a
 * deadline. Used with {@link Readiness#await} while the host starts.
 */
public final class ControlProbe {

  private ControlProbe() {}

  /**
   * Whether the control service answered OK within {@code deadline}.
   *
   * @return false while the server is not listening yet (UNAVAILABLE) or too slow
   *     (DEADLINE_EXCEEDED)
   * @throws StatusRuntimeException for any other status: the server is up but refuses, which
   *     waiting will not fix
   */
  public static boolean answers(Channel channel, Duration deadline) {
    try {
      HostControlGrpc.newBlockingStub(channel)
          .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
          .listGuests(ListGuestsRequest.getDefaultInstance());
      return true;
    } catch (StatusRuntimeException e) {
      Status.Code c = e.getStatus().getCode();
      if (c == Status.Code.UNAVAILABLE || c == Status.Code.DEADLINE_EXCEEDED) {
        return false;
      }
      throw e;
    }
  }
}
