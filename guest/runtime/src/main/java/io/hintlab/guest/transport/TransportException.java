package io.hintlab.guest.transport;

import io.grpc.Status;
import java.util.Optional;

/**
 * A device call failed. The one exception type of the guest's transport: every gRPC status a
 * call ends with is mapped to a {@link Reason} here, in {@link Reason#of(Status.Code)}, and
 * nowhere else.
 *
 * <p>For a report batch any failure means the same thing to the caller: the batch counts as not
 * reported, and its pages go back to the free lists without PageReported (the kernel's
 * {@code page_reporting_drain(prdev, sgl, nents, !err)}). That is safe even when the host did
 * discard the batch before the failure (an ack lost with the connection): a discarded free page
 * reads back as zeros, and nobody owns its content.
 */
public final class TransportException extends Exception {
  private static final long serialVersionUID = 1L;

  /**
   * Why a call failed, from the driver's point of view. {@link #reconnects()} says whether a
   * {@link Connector} may try again.
   *
   * <table>
   *   <caption>gRPC status codes and reasons</caption>
   *   <tr><th>Status</th><th>Reason</th></tr>
   *   <tr><td>UNAVAILABLE, DEADLINE_EXCEEDED</td><td>HOST_GONE</td></tr>
   *   <tr><td>UNAUTHENTICATED</td><td>SESSION_LOST</td></tr>
   *   <tr><td>INVALID_ARGUMENT, OUT_OF_RANGE</td><td>REJECTED</td></tr>
   *   <tr><td>FAILED_PRECONDITION</td><td>NOT_NEGOTIATED</td></tr>
   *   <tr><td>RESOURCE_EXHAUSTED</td><td>OVER_CAPACITY</td></tr>
   *   <tr><td>CANCELLED</td><td>CANCELLED</td></tr>
   *   <tr><td>every other code (INTERNAL, UNKNOWN, UNIMPLEMENTED, DATA_LOSS, NOT_FOUND,
   *       ALREADY_EXISTS, PERMISSION_DENIED, ABORTED, and OK, which is never an error)</td>
   *       <td>HOST_FAILED</td></tr>
   * </table>
   */
  public enum Reason {
    /**
     * The host did not answer within the deadline, or the connection is down. The call's effect
     * is unknown; the session may still be alive on the host until its lease runs out.
     */
    HOST_GONE(true, "host gone"),
    /**
     * The host does not know the session token (the lease ran out, the host restarted or the
     * session was detached): attach again; the new session has new, empty RAM.
     */
    SESSION_LOST(true, "session lost"),
    /** The host refused malformed input (a guest bug); nothing changed. */
    REJECTED(false, "rejected"),
    /**
     * The feature the call needs was not negotiated, the call is not valid in this state, or
     * the driver's probe refuses the device (as virtballoon_probe() does).
     */
    NOT_NEGOTIATED(false, "not negotiated"),
    /** More ranges or pfns than the queue holds, or the host has too many guests. */
    OVER_CAPACITY(false, "over capacity"),
    /** This side gave the call up: the calling thread was interrupted or the client closed. */
    CANCELLED(false, "cancelled"),
    /** The host broke (INTERNAL, UNKNOWN) or does not speak this protocol (UNIMPLEMENTED). */
    HOST_FAILED(false, "host failed");

    private final boolean reconnects;
    private final String words;

    Reason(boolean reconnects, String words) {
      this.reconnects = reconnects;
      this.words = words;
    }

    /**
     * Whether reconnecting (resuming the session, or attaching anew) can help.
     *
     * @return true for HOST_GONE and SESSION_LOST
     */
    public boolean reconnects() {
      return reconnects;
    }

    /**
     * The reason in words for messages, e.g. {@code host gone}.
     *
     * @return a short lower-case phrase
     */
    public String words() {
      return words;
    }

    /**
     * The one mapping from gRPC status codes to reasons (see the table on {@link Reason}).
     *
     * @param code the status a call ended with
     * @return the reason the driver acts on
     */
    public static Reason of(Status.Code code) {
      return switch (code) {
        case UNAVAILABLE, DEADLINE_EXCEEDED -> HOST_GONE;
        case UNAUTHENTICATED -> SESSION_LOST;
        case INVALID_ARGUMENT, OUT_OF_RANGE -> REJECTED;
        case FAILED_PRECONDITION -> NOT_NEGOTIATED;
        case RESOURCE_EXHAUSTED -> OVER_CAPACITY;
        case CANCELLED -> CANCELLED;
        case OK, UNKNOWN, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED, ABORTED, UNIMPLEMENTED,
            INTERNAL, DATA_LOSS -> HOST_FAILED;
      };
    }
  }

  private final Reason reason;
  private final String rpc;
  private final Status.Code code; // null when the failure was decided on this side

  private TransportException(
      Reason reason, String rpc, Status.Code code, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
    this.rpc = rpc;
    this.code = code;
  }

  /**
   * A failure decided on this side, without a call (e.g. the driver's probe refusing a device).
   *
   * @param reason why
   * @param rpc the call that was not made, e.g. {@code Attach}
   * @param detail what is wrong, for people
   * @return the exception
   */
  public static TransportException local(Reason reason, String rpc, String detail) {
    return new TransportException(
        reason, rpc, null, rpc + ": " + reason.words() + ": " + detail, null);
  }

  /**
   * Maps a failed call: the status of {@code t} (a {@code StatusRuntimeException} from a stub, or
   * whatever a stream observer received) becomes a {@link Reason}.
   *
   * @param rpc the device call, as named in device.proto, e.g. {@code Report}
   * @param t what the call failed with
   * @return the exception, with {@code t} as its cause
   */
  public static TransportException fromCall(String rpc, Throwable t) {
    Status s = Status.fromThrowable(t);
    Reason r = Reason.of(s.getCode());
    String detail = s.getDescription() == null ? "" : ": " + s.getDescription();
    return new TransportException(
        r, rpc, s.getCode(), rpc + ": " + r.words() + " (" + s.getCode() + detail + ")", t);
  }

  /**
   * A copy of a failure with a new message (e.g. the Connector's "gave up after ..."), keeping
   * its reason, call and status, and the failure as its cause.
   *
   * @param message the new message
   * @return the exception
   */
  public TransportException withMessage(String message) {
    return new TransportException(reason, rpc, code, message, this);
  }

  /**
   * Why the call failed.
   *
   * @return the reason
   */
  public Reason reason() {
    return reason;
  }

  /**
   * The device call that failed, as named in device.proto (e.g. {@code Report}).
   *
   * @return the call name
   */
  public String rpc() {
    return rpc;
  }

  /**
   * The gRPC status code the call ended with.
   *
   * @return the code, or empty when the failure was decided on this side
   */
  public Optional<Status.Code> status() {
    return Optional.ofNullable(code);
  }
}
