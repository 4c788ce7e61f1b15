package io.hintlab.host.device;

/**
 * The one domain error of the host. {@link Reason} says what kind; io.hintlab.host.rpc.StatusMapper
 * turns it into a gRPC status (and is the only place that does).
 */
public final class BalloonException extends Exception {
  /** Why a call was refused (modelled on Firecracker's BalloonError). */
  public enum Reason {
    /** Missing, unknown or expired session token. */
    UNAUTHENTICATED,
    /** Malformed input: bad size, bad page size, empty batch, bad command id. */
    MALFORMED_REQUEST,
    /** A range not naturally aligned to its order. */
    MALFORMED_RANGE,
    /** An order above the guest's declared max order. */
    ORDER_TOO_LARGE,
    /** Ranges of one batch overlap. */
    OVERLAPPING_RANGES,
    /** A pfn beyond the guest's RAM. */
    RANGE_OUT_OF_BOUNDS,
    /** Feature bits the device does not know. */
    UNKNOWN_FEATURE,
    /** Feature bits the device knows but did not offer. */
    FEATURE_NOT_OFFERED,
    /** The call needs a feature that was not negotiated. */
    FEATURE_NOT_NEGOTIATED,
    /** The call is not valid in the device's current state. */
    WRONG_STATE,
    /** More ranges or pfns than the queue holds. */
    TOO_MANY_ENTRIES,
    /** The host has no room for another guest. */
    TOO_MANY_GUESTS,
    /** No guest with that id. */
    GUEST_NOT_FOUND,
    /** The guest did not answer in time (pause). */
    GUEST_UNRESPONSIVE,
    /** The host failed (I/O); the message says what. */
    HOST_FAILURE
  }

  private final Reason reason;

  /** Creates an exception; {@code message} is shown to the caller, so make it precise. */
  public BalloonException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  /** Creates an exception with a cause (kept for logs, never sent to the caller). */
  public BalloonException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  /** Why the call was refused. */
  public Reason reason() {
    return reason;
  }
}
