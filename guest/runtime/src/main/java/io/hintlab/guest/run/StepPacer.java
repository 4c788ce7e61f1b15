package io.hintlab.guest.run;

/**
 * Paces workload steps in real time ({@link RunOptions#stepRate()}): step {@code n} is due at
 * {@code start + n / rate}. Unpaced, the model runs a few million steps a second, so a churning
 * workload keeps a block for milliseconds, far shorter than a migration round; paced, its pages
 * live as long as a real guest's. A thread more than {@link #MAX_BEHIND_NANOS} behind (after a
 * pause, or on a busy machine) starts a new schedule rather than catching up in a burst.
 *
 * <p><b>Note:</b> not thread-safe; one per vCPU thread.
 */
final class StepPacer {
  /** How far behind the schedule a thread may fall before the schedule restarts. */
  static final long MAX_BEHIND_NANOS = 100_000_000L;

  private final long rate;
  private final double nanosPerStep;
  private long start;
  private long steps;

  /**
   * A pacer of {@code rate} steps a second; 0 paces nothing.
   *
   * @throws IllegalArgumentException if the rate is negative
   */
  StepPacer(long rate) {
    if (rate < 0) {
      throw new IllegalArgumentException("step rate must be >= 0, got " + rate);
    }
    this.rate = rate;
    this.nanosPerStep = rate == 0 ? 0 : 1e9 / rate;
  }

  /** Whether steps are paced at all. */
  boolean paced() {
    return rate > 0;
  }

  /**
   * Counts one step done at {@code now} and returns how long the thread is ahead of the schedule
   * (0 when on time or behind).
   *
   * @param now {@link System#nanoTime()}
   * @return nanoseconds to wait before the next step
   */
  long step(long now) {
    if (rate == 0) {
      return 0;
    }
    if (steps == 0) {
      start = now;
    }
    steps++;
    long due = start + (long) (steps * nanosPerStep);
    long ahead = due - now;
    if (ahead < -MAX_BEHIND_NANOS) {
      start = now;
      steps = 0;
      return 0;
    }
    return Math.max(0, ahead);
  }
}
