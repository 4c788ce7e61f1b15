package io.hintlab.host.migration;

import java.util.List;

/**
 * The outcome of one pre-copy migration.
 *
 * @param guestId the guest migrated
 * @param options the options it ran with
 * @param hinting whether free page hinting was driven (options asked for it and the guest
 *     negotiated VIRTIO_BALLOON_F_FREE_PAGE_HINT)
 * @param transfer what crossed the link
 * @param timing simulated and real times
 * @param verification the ground-truth check and the detector's score
 * @param roundStats one entry per round, the stop-and-copy last
 */
public record MigrationReport(
    String guestId,
    MigrationOptions options,
    boolean hinting,
    Transfer transfer,
    Timing timing,
    Verification verification,
    List<RoundStats> roundStats) {

  /** Copies the list. */
  public MigrationReport {
    roundStats = List.copyOf(roundStats);
  }

  /**
   * Totals over every round, the stop-and-copy included.
   *
   * @param rounds pre-copy rounds run (round 0 included, the stop-and-copy not)
   * @param converged whether the switch-over came from the downtime limit (false: max rounds)
   * @param bytesSent bytes put on the link, page headers included
   * @param normalPages pages sent with their content
   * @param zeroPages pages sent as zero pages, holes included
   * @param holePages of {@code zeroPages}, those inside holes of the RAM file (never read)
   * @param pagesSkippedByHints bitmap bits hints cleared while still set (sends saved)
   * @param pagesHinted pages in hinted ranges the migration applied (whether or not their bits
   *     were set)
   * @param hintedBeforeReached of {@code pagesSkippedByHints}, those of round 0: pages hinted
   *     before the migration thread reached them
   * @param hintCmdIds free page hint command ids the migration issued (one per bitmap sync with
   *     the guest running)
   * @param hintPagesIgnored pages in hints that reached the migration outside pre-copy (before
   *     the first id, or during stop-and-copy) and were dropped, as QEMU drops them
   */
  public record Transfer(
      int rounds,
      boolean converged,
      long bytesSent,
      long normalPages,
      long zeroPages,
      long holePages,
      long pagesSkippedByHints,
      long pagesHinted,
      long hintedBeforeReached,
      long hintCmdIds,
      long hintPagesIgnored) {}

  /**
   * Times. Simulated times are link times at the bandwidth, computed from bytes (0 on an
   * unlimited link); real times are wall-clock.
   *
   * @param migrationNanos simulated: link time of every byte sent ({@code bytesSent / rate})
   * @param downtimeNanos simulated plus real: the stop-and-copy's link time plus the real pause
   *     handshake ({@code pauseNanos})
   * @param pauseNanos real: from sending PAUSE to the guest's Paused answer
   * @param wallNanos real: from opening the source and destination to resuming the guest after
     *     verification
   */
  public record Timing(long migrationNanos, long downtimeNanos, long pauseNanos, long wallNanos) {
    /** {@code migrationNanos} in whole milliseconds (rounded down). */
    public long migrationMs() {
      return migrationNanos / 1_000_000;
    }

    /** {@code downtimeNanos} in whole milliseconds (rounded down). */
    public long downtimeMs() {
      return downtimeNanos / 1_000_000;
    }

    /** {@code pauseNanos} in whole milliseconds (rounded down). */
    public long pauseMs() {
      return pauseNanos / 1_000_000;
    }

    /** {@code wallNanos} in whole milliseconds (rounded down). */
    public long wallMs() {
      return wallNanos / 1_000_000;
    }
  }
}
