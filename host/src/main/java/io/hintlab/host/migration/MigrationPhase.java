package io.hintlab.host.migration;

/**
 * Where a {@link PrecopyMigration} is (cf. QEMU's MigrationStatus). The transition table is in
 * {@link PrecopyMigration}'s class Javadoc.
 */
public enum MigrationPhase {
  /** Mapping the source and destination, enabling dirty logging, plugging the hint sink. */
  SETUP,
  /** Pre-copy rounds: the guest runs, hints are applied, the bitmap is synced between rounds. */
  ITERATING,
  /** The guest is paused (or being paused); the rest is sent; hints are dropped. */
  STOP_AND_COPY,
  /** Every page the guest owns is compared, source against destination; the guest is paused. */
  VERIFYING,
  /** Ended with a report; the guest was resumed. */
  COMPLETED,
  /** Ended with an error; the guest was resumed if the migration had paused it. */
  FAILED,
  /** Ended by {@link PrecopyMigration#stop}; the guest was resumed if it had been paused. */
  CANCELLED;

  /** Whether the migration has ended. */
  public boolean terminal() {
    return this == COMPLETED || this == FAILED || this == CANCELLED;
  }
}
