package io.hintlab.host.lab;

/**
 * Free page hinting rounds the pair drives: every {@code everySeconds} after the guest attached
 * it calls {@code StartHinting} (a new command id, as QEMU does when a migration starts), and
 * {@code holdSeconds} later {@code StopHinting(done=true)}, which lets the guest release the
 * blocks it hinted and held.
 *
 * @param everySeconds seconds between round starts; 0 for no hinting
 * @param holdSeconds seconds a round lasts, in [1, everySeconds)
 */
public record HintPlan(long everySeconds, long holdSeconds) {

  /** Rounds every 10 s lasting 5 s: the default for the {@code hint-alloc-hold} strategy. */
  public static final HintPlan HINT_ALLOC_HOLD_DEFAULT = new HintPlan(10, 5);

  /**
   * Checks the two values.
   *
   * @throws IllegalArgumentException naming the option that is out of range
   */
  public HintPlan {
    if (everySeconds < 0 || everySeconds > 1_000_000) {
      throw new IllegalArgumentException(
          "--hint-every must be in [1, 1000000] seconds, got " + everySeconds);
    }
    if (everySeconds > 0 && (holdSeconds < 1 || holdSeconds >= everySeconds)) {
      throw new IllegalArgumentException("--hint-hold must be at least 1 and less than "
          + "--hint-every (" + everySeconds + "), got " + holdSeconds);
    }
  }

  /** No hinting. */
  public static HintPlan none() {
    return new HintPlan(0, 0);
  }

  /** Whether rounds are driven at all. */
  public boolean enabled() {
    return everySeconds > 0;
  }

  @Override
  public String toString() {
    return enabled() ? "every " + everySeconds + " s, held " + holdSeconds + " s" : "off";
  }
}
