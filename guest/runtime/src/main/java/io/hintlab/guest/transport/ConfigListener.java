package io.hintlab.guest.transport;

/**
 * Receives the host's config-change stream (see {@link DeviceClient#watchConfig}).
 *
 * <p><b>Note:</b> called on a gRPC thread, one call at a time and in the host's order; a listener
 * must return quickly (hand work to the driver's own thread) and must not call back into the
 * stream. After {@link #onCompleted()} or {@link #onFailed} nothing else arrives; after the
 * watch is closed by this side, nothing arrives at all.
 */
public interface ConfigListener {
  /**
   * One event. The first one carries the current config.
   *
   * @param update the event
   */
  void onUpdate(ConfigUpdate update);

  /**
   * The host ended the stream normally: after SHUTDOWN, or because a newer stream of the same
   * session replaced this one.
   */
  default void onCompleted() {}

  /**
   * The stream broke (the host went away, the session was lost).
   *
   * @param failure why, mapped like any call's failure
   */
  default void onFailed(TransportException failure) {}
}
