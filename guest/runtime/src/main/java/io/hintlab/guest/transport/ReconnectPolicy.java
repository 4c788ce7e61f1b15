package io.hintlab.guest.transport;

import java.time.Duration;

/**
 * What the guest does when the host goes away or forgets its session, as the user chose: exit
 * with a clear message, or reconnect with exponential backoff, a cap on each wait and a bound on
 * the number of attempts. Used by {@link Connector}.
 *
 * <p>The waits are {@code initialBackoff * 2^(attempt-1)}, capped at {@code maxBackoff}, with no
 * jitter: one guest talks to one host, so there is no herd to spread out, and tests stay exact.
 *
 * @param mode exit or reconnect
 * @param maxAttempts reconnect attempts after a failure before giving up (0 for EXIT)
 * @param initialBackoff the wait before the first attempt
 * @param maxBackoff the longest single wait
 */
public record ReconnectPolicy(
    Mode mode, int maxAttempts, Duration initialBackoff, Duration maxBackoff) {

  /** Reconnect or exit. */
  public enum Mode {
    /** Try again with backoff, a bounded number of times. */
    RECONNECT,
    /** Give up at the first loss, with a message saying why. */
    EXIT
  }

  /**
   * Checks the values.
   *
   * @throws IllegalArgumentException naming the bad value
   */
  public ReconnectPolicy {
    if (mode == null) {
      throw new IllegalArgumentException("mode must not be null");
    }
    if (mode == Mode.EXIT) {
      maxAttempts = 0;
      initialBackoff = Duration.ZERO;
      maxBackoff = Duration.ZERO;
    } else {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be at least 1, was " + maxAttempts);
      }
      if (initialBackoff == null || initialBackoff.isNegative() || initialBackoff.isZero()) {
        throw new IllegalArgumentException(
            "initialBackoff must be positive, was " + initialBackoff);
      }
      if (maxBackoff == null || maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalArgumentException("maxBackoff must be at least initialBackoff "
            + initialBackoff + ", was " + maxBackoff);
      }
    }
  }

  /**
   * Exit at the first loss.
   *
   * @return the policy
   */
  public static ReconnectPolicy exit() {
    return new ReconnectPolicy(Mode.EXIT, 0, Duration.ZERO, Duration.ZERO);
  }

  /**
   * Reconnect with exponential backoff.
   *
   * @param maxAttempts attempts before giving up, at least 1
   * @param initialBackoff the first wait, positive
   * @param maxBackoff the cap on each wait, at least {@code initialBackoff}
   * @return the policy
   */
  public static ReconnectPolicy reconnect(
      int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
    return new ReconnectPolicy(Mode.RECONNECT, maxAttempts, initialBackoff, maxBackoff);
  }

  /**
   * The default reconnect policy: 10 attempts, 200 ms doubling up to 5 s (about 31 s of waiting in
   * all: long enough for a host restart, three times the host's default 10 s lease).
   *
   * @return the policy
   */
  public static ReconnectPolicy defaults() {
    return reconnect(10, Duration.ofMillis(200), Duration.ofSeconds(5));
  }

  /**
   * The wait before one attempt.
   *
   * @param attempt the attempt, from 1
   * @return {@code min(initialBackoff * 2^(attempt-1), maxBackoff)}
   */
  public Duration backoff(int attempt) {
    if (attempt < 1) {
      throw new IllegalArgumentException("attempt must be at least 1, was " + attempt);
    }
    if (mode == Mode.EXIT) {
      return Duration.ZERO;
    }
    int shift = Math.min(attempt - 1, 62);
    long init = initialBackoff.toNanos();
    long cap = maxBackoff.toNanos();
    long d = init > (cap >> shift) ? cap : init << shift; // no overflow past the cap
    return Duration.ofNanos(Math.min(d, cap));
  }

  @Override
  public String toString() {
    return mode == Mode.EXIT ? "exit"
        : "reconnect (" + maxAttempts + " attempts, backoff " + initialBackoff.toMillis()
            + " ms doubling up to " + maxBackoff.toMillis() + " ms)";
  }
}
