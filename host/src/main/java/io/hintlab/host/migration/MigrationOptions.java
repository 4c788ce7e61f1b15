package io.hintlab.host.migration;

import java.nio.file.Path;

/**
 * Knobs of one pre-copy migration, named after QEMU's migration parameters where one exists.
 *
 * @param bandwidth link rate the migration thread is paced at (QEMU max-bandwidth)
 * @param downtimeLimitMs QEMU downtime-limit: the migration switches over once the remaining
 *     dirty set is smaller than {@code downtimeLimitMs} worth of link time; 0 switches over only
 *     when nothing is left (or at {@code maxRounds})
 * @param maxRounds pre-copy rounds (round 0 is the bulk round) after which the migration
 *     switches over even if it has not converged; QEMU has no such limit (users raise the
 *     downtime or start postcopy), a lab needs one to end
 * @param useHints drive free page hinting (QEMU's free-page-hint=on); false for the compare run
 *     without hints. Used only if the guest negotiated VIRTIO_BALLOON_F_FREE_PAGE_HINT, as QEMU's
 *     precopy notifier is a no-op otherwise
 * @param guards guards turned off for fault injection ({@link GuardSwitches#ALL_ON} normally)
 * @param destinationDir private (0700) directory for the destination file, created if missing;
 *     the file is deleted when the migration ends
 */
public record MigrationOptions(
    Bandwidth bandwidth,
    long downtimeLimitMs,
    int maxRounds,
    boolean useHints,
    GuardSwitches guards,
    Path destinationDir) {

  /** QEMU's default max-bandwidth: MAX_THROTTLE, 128 MiB/s (migration/migration.c). */
  public static final Bandwidth DEFAULT_BANDWIDTH = new Bandwidth(128L << 20);
  /** QEMU's default downtime-limit: DEFAULT_MIGRATE_SET_DOWNTIME, 300 ms. */
  public static final long DEFAULT_DOWNTIME_LIMIT_MS = 300;
  /** QEMU's largest downtime-limit: MAX_MIGRATE_DOWNTIME_SECONDS (2000 s). */
  public static final long MAX_DOWNTIME_LIMIT_MS = 2_000_000;
  /** Rounds before a forced switch-over: enough for a busy guest to show it does not converge. */
  public static final int DEFAULT_MAX_ROUNDS = 30;
  /** Upper bound of {@code maxRounds}: a guard against typos, not a QEMU limit. */
  public static final int MAX_ROUNDS_LIMIT = 100_000;

  /**
   * Validates the values.
   *
   * @throws IllegalArgumentException naming the bad value
   */
  public MigrationOptions {
    if (bandwidth == null) {
      throw new IllegalArgumentException("bandwidth must not be null");
    }
    if (downtimeLimitMs < 0 || downtimeLimitMs > MAX_DOWNTIME_LIMIT_MS) {
      throw new IllegalArgumentException(
          "downtime limit must be in [0, " + MAX_DOWNTIME_LIMIT_MS + "] ms, was "
              + downtimeLimitMs);
    }
    if (maxRounds < 1 || maxRounds > MAX_ROUNDS_LIMIT) {
      throw new IllegalArgumentException(
          "max rounds must be in [1, " + MAX_ROUNDS_LIMIT + "], was " + maxRounds);
    }
    if (guards == null) {
      throw new IllegalArgumentException("guards must not be null");
    }
    if (destinationDir == null) {
      throw new IllegalArgumentException("destination directory must not be null");
    }
  }

  /** QEMU's defaults (128 MiB/s, 300 ms), 30 rounds, hints on, every guard on. */
  public static MigrationOptions defaults(Path destinationDir) {
    return new MigrationOptions(DEFAULT_BANDWIDTH, DEFAULT_DOWNTIME_LIMIT_MS, DEFAULT_MAX_ROUNDS,
        true, GuardSwitches.ALL_ON, destinationDir);
  }

  /** A copy with another bandwidth. */
  public MigrationOptions withBandwidth(Bandwidth b) {
    return new MigrationOptions(b, downtimeLimitMs, maxRounds, useHints, guards, destinationDir);
  }

  /** A copy with another downtime limit. */
  public MigrationOptions withDowntimeLimitMs(long ms) {
    return new MigrationOptions(bandwidth, ms, maxRounds, useHints, guards, destinationDir);
  }

  /** A copy with another round limit. */
  public MigrationOptions withMaxRounds(int n) {
    return new MigrationOptions(bandwidth, downtimeLimitMs, n, useHints, guards, destinationDir);
  }

  /** A copy with hinting on or off. */
  public MigrationOptions withHints(boolean on) {
    return new MigrationOptions(bandwidth, downtimeLimitMs, maxRounds, on, guards, destinationDir);
  }

  /** A copy with other guard switches. */
  public MigrationOptions withGuards(GuardSwitches g) {
    return new MigrationOptions(bandwidth, downtimeLimitMs, maxRounds, useHints, g, destinationDir);
  }
}
