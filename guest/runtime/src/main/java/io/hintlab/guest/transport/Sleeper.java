package io.hintlab.guest.transport;

import java.time.Duration;

/**
 * Waits between reconnect attempts. The {@link Connector}'s own sleeper wakes early when the
 * connector is closed; tests pass a fake that records the waits and returns at once.
 */
@FunctionalInterface
public interface Sleeper {
  /**
   * Waits about {@code d}; may return early.
   *
   * @param d how long
   * @throws InterruptedException if the thread was interrupted
   */
  void sleep(Duration d) throws InterruptedException;
}
