package io.hintlab.guest.reporting;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The counters of one reporting agent and its strategy. They are part of the API: tests and run
 * summaries compare {@link #snapshot()}s taken around an action.
 *
 * <p>Free page hinting ({@code hint-alloc-hold}) counts its calls to the device in {@link
 * #batches()} and {@link #failedBatches()} like reports, but what it hints in its own counters
 * ({@link #hintedBytes()} and the others named {@code hint...}): hinted blocks stay allocated by
 * the driver, so they are not reported free memory and never count in {@link #reportedBytes()}.
 *
 * <p><b>Note:</b> thread-safe. The reporting thread writes most counters; {@link #scheduled()} is
 * also written by whichever thread requests a pass, and {@link #hintBlocksShrunk()} by the
 * allocating thread whose direct reclaim ran the hinting shrinker. Readers on other threads see
 * each counter on its own, not a consistent set (take a {@link #snapshot()} while the agent is idle
 * for that).
 */
public final class ReportingMetrics {
  private final AtomicLong passes = new AtomicLong();
  private final AtomicLong scheduled = new AtomicLong();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong reportedBlocks = new AtomicLong();
  private final AtomicLong reportedPages = new AtomicLong();
  private final AtomicLong reportedBytes = new AtomicLong();
  private final AtomicLong failedBatches = new AtomicLong();
  private final AtomicLong budgetExhaustions = new AtomicLong();
  private final AtomicLong watermarkRefusals = new AtomicLong();
  private final AtomicLong zonesBelowGate = new AtomicLong();
  private final AtomicLong passErrors = new AtomicLong();
  private final AtomicLong isolationConflicts = new AtomicLong();
  private final AtomicLong isolationTestFailures = new AtomicLong();
  private final AtomicLong walkRestarts = new AtomicLong();
  private final AtomicLong reoffers = new AtomicLong();
  private final AtomicLong walkStepLimits = new AtomicLong();
  private final AtomicLong hintRounds = new AtomicLong();
  private final AtomicLong hintedBlocks = new AtomicLong();
  private final AtomicLong hintedPages = new AtomicLong();
  private final AtomicLong hintedBytes = new AtomicLong();
  private final AtomicLong hintBlocksFreedOnDone = new AtomicLong();
  private final AtomicLong hintBlocksShrunk = new AtomicLong();
  private final AtomicLong hintBlocksFreedOnClose = new AtomicLong();

  /** Creates zeroed counters. */
  public ReportingMetrics() {}

  /** Passes run (page_reporting_process() calls). */
  public long passes() {
    return passes.get();
  }

  /** Times a pass was scheduled: requests that found the agent idle, plus reruns. */
  public long scheduled() {
    return scheduled.get();
  }

  /** Report calls the host acknowledged, and hint calls the device took. */
  public long batches() {
    return batches.get();
  }

  /** Blocks in acknowledged report calls. */
  public long reportedBlocks() {
    return reportedBlocks.get();
  }

  /** Pages in acknowledged report calls. */
  public long reportedPages() {
    return reportedPages.get();
  }

  /** Bytes in acknowledged report calls. */
  public long reportedBytes() {
    return reportedBytes.get();
  }

  /**
   * Report calls that failed, their pages went back unreported; and hint, start or stop calls the
   * device did not take (the blocks of a failed hint call go back to the buddy).
   */
  public long failedBatches() {
    return failedBatches.get();
  }

  /** Free lists left early because the per-list budget was spent (a rerun is then requested). */
  public long budgetExhaustions() {
    return budgetExhaustions.get();
  }

  /** Free lists left early because __isolate_free_page() refused a block on the watermark. */
  public long watermarkRefusals() {
    return watermarkRefusals.get();
  }

  /** Zones skipped in a pass because their free pages were at or below the reporting gate. */
  public long zonesBelowGate() {
    return zonesBelowGate.get();
  }

  /** Passes that ended with an unexpected exception (a bug; the agent logs it and goes on). */
  public long passErrors() {
    return passErrors.get();
  }

  /**
   * Candidate ranges whose start_isolate_page_range() returned -EBUSY: another isolation user
   * (alloc_contig_range(), offlining) holds a pageblock of the range, or it holds unmovable pages
   * (isolate-report; the candidate is kept for a later pass).
   */
  public long isolationConflicts() {
    return isolationConflicts.get();
  }

  /**
   * Isolated candidate ranges whose test_pages_isolated() failed: a page was on a pcp list (the
   * isolation drains nothing), taken off the lists by another reporter, or allocated in the race
   * window, so the range was un-isolated unreported (isolate-report).
   */
  public long isolationTestFailures() {
    return isolationTestFailures.get();
  }

  /**
   * Steps of a free-list walk whose cursor was no longer a free block of the list, so the walk
   * restarted at the list head (free-list-walk, original cursor).
   */
  public long walkRestarts() {
    return walkRestarts.get();
  }

  /** Blocks offered again in the same walk of a list (free-list-walk). */
  public long reoffers() {
    return reoffers.get();
  }

  /**
   * List walks stopped because they offered more blocks than the zone has positions of that order,
   * which only a walk that goes back can do (free-list-walk).
   */
  public long walkStepLimits() {
    return walkStepLimits.get();
  }

  /** Free page hinting rounds started: start outbufs ({@code send_cmd_id_start()}) taken. */
  public long hintRounds() {
    return hintRounds.get();
  }

  /** Blocks in hint calls the device took. */
  public long hintedBlocks() {
    return hintedBlocks.get();
  }

  /** Pages in hint calls the device took. */
  public long hintedPages() {
    return hintedPages.get();
  }

  /** Bytes in hint calls the device took. */
  public long hintedBytes() {
    return hintedBytes.get();
  }

  /** Hinted blocks freed because the device said DONE ({@code return_free_pages_to_mm()}). */
  public long hintBlocksFreedOnDone() {
    return hintBlocksFreedOnDone.get();
  }

  /**
   * Hinted blocks the shrinker gave back to the buddy before DONE, under memory pressure ({@code
   * virtio_balloon_shrinker_scan()}).
   */
  public long hintBlocksShrunk() {
    return hintBlocksShrunk.get();
  }

  /** Hinted blocks freed when the device went away ({@code remove_common()}). */
  public long hintBlocksFreedOnClose() {
    return hintBlocksFreedOnClose.get();
  }

  /** The current values. */
  public Snapshot snapshot() {
    return new Snapshot(
        passes.get(),
        scheduled.get(),
        batches.get(),
        reportedBlocks.get(),
        reportedPages.get(),
        reportedBytes.get(),
        failedBatches.get(),
        budgetExhaustions.get(),
        watermarkRefusals.get(),
        zonesBelowGate.get(),
        passErrors.get(),
        isolationConflicts.get(),
        isolationTestFailures.get(),
        walkRestarts.get(),
        reoffers.get(),
        walkStepLimits.get(),
        hintRounds.get(),
        hintedBlocks.get(),
        hintedPages.get(),
        hintedBytes.get(),
        hintBlocksFreedOnDone.get(),
        hintBlocksShrunk.get(),
        hintBlocksFreedOnClose.get());
  }

  void pass() {
    passes.incrementAndGet();
  }

  void scheduledOnce() {
    scheduled.incrementAndGet();
  }

  void batchReported(int blocks, long pages, long bytes) {
    batches.incrementAndGet();
    reportedBlocks.addAndGet(blocks);
    reportedPages.addAndGet(pages);
    reportedBytes.addAndGet(bytes);
  }

  void batchFailed() {
    failedBatches.incrementAndGet();
  }

  void budgetExhausted() {
    budgetExhaustions.incrementAndGet();
  }

  void watermarkRefused() {
    watermarkRefusals.incrementAndGet();
  }

  void zoneBelowGate() {
    zonesBelowGate.incrementAndGet();
  }

  void passError() {
    passErrors.incrementAndGet();
  }

  void isolationConflict() {
    isolationConflicts.incrementAndGet();
  }

  void isolationTestFailed() {
    isolationTestFailures.incrementAndGet();
  }

  void walkRestarted() {
    walkRestarts.incrementAndGet();
  }

  void reoffered() {
    reoffers.incrementAndGet();
  }

  void walkStepLimited() {
    walkStepLimits.incrementAndGet();
  }

  void hintRoundStarted() {
    hintRounds.incrementAndGet();
  }

  void batchHinted(int blocks, long pages, long bytes) {
    batches.incrementAndGet();
    hintedBlocks.addAndGet(blocks);
    hintedPages.addAndGet(pages);
    hintedBytes.addAndGet(bytes);
  }

  void hintBlocksFreedOnDone(long blocks) {
    hintBlocksFreedOnDone.addAndGet(blocks);
  }

  void hintBlocksShrunk(long blocks) {
    hintBlocksShrunk.addAndGet(blocks);
  }

  void hintBlocksFreedOnClose(long blocks) {
    hintBlocksFreedOnClose.addAndGet(blocks);
  }

  /**
   * The counters at one moment; {@link #minus} gives the change over an action.
   *
   * @param passes passes run
   * @param scheduled passes scheduled
   * @param batches acknowledged report calls
   * @param reportedBlocks blocks in acknowledged calls
   * @param reportedPages pages in acknowledged calls
   * @param reportedBytes bytes in acknowledged calls
   * @param failedBatches failed report calls
   * @param budgetExhaustions lists left on a spent budget
   * @param watermarkRefusals lists left on a watermark refusal
   * @param zonesBelowGate zones skipped at the gate
   * @param passErrors passes ended by an unexpected exception
   * @param isolationConflicts candidate ranges refused with -EBUSY
   * @param isolationTestFailures isolated candidate ranges that failed the test
   * @param walkRestarts walk restarts at a list head
   * @param reoffers blocks offered twice in one list walk
   * @param walkStepLimits list walks stopped at the step limit
   * @param hintRounds free page hinting rounds started
   * @param hintedBlocks blocks in hint calls the device took
   * @param hintedPages pages in hint calls the device took
   * @param hintedBytes bytes in hint calls the device took
   * @param hintBlocksFreedOnDone hinted blocks freed on DONE
   * @param hintBlocksShrunk hinted blocks the shrinker gave back early
   * @param hintBlocksFreedOnClose hinted blocks freed when the device went away
   */
  public record Snapshot(
      long passes,
      long scheduled,
      long batches,
      long reportedBlocks,
      long reportedPages,
      long reportedBytes,
      long failedBatches,
      long budgetExhaustions,
      long watermarkRefusals,
      long zonesBelowGate,
      long passErrors,
      long isolationConflicts,
      long isolationTestFailures,
      long walkRestarts,
      long reoffers,
      long walkStepLimits,
      long hintRounds,
      long hintedBlocks,
      long hintedPages,
      long hintedBytes,
      long hintBlocksFreedOnDone,
      long hintBlocksShrunk,
      long hintBlocksFreedOnClose) {

    /**
     * The change from {@code before} to this snapshot.
     *
     * @param before an earlier snapshot of the same metrics
     * @return this minus before, field by field
     */
    public Snapshot minus(Snapshot before) {
      return new Snapshot(
          passes - before.passes,
          scheduled - before.scheduled,
          batches - before.batches,
          reportedBlocks - before.reportedBlocks,
          reportedPages - before.reportedPages,
          reportedBytes - before.reportedBytes,
          failedBatches - before.failedBatches,
          budgetExhaustions - before.budgetExhaustions,
          watermarkRefusals - before.watermarkRefusals,
          zonesBelowGate - before.zonesBelowGate,
          passErrors - before.passErrors,
          isolationConflicts - before.isolationConflicts,
          isolationTestFailures - before.isolationTestFailures,
          walkRestarts - before.walkRestarts,
          reoffers - before.reoffers,
          walkStepLimits - before.walkStepLimits,
          hintRounds - before.hintRounds,
          hintedBlocks - before.hintedBlocks,
          hintedPages - before.hintedPages,
          hintedBytes - before.hintedBytes,
          hintBlocksFreedOnDone - before.hintBlocksFreedOnDone,
          hintBlocksShrunk - before.hintBlocksShrunk,
          hintBlocksFreedOnClose - before.hintBlocksFreedOnClose);
    }
  }
}
