package io.hintlab.guest.run;

import io.hintlab.guest.driver.DriverMetrics;
import io.hintlab.guest.driver.FreePageVq;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What one {@link GuestRun} did, for the summary table and {@code --json}, and its verdict.
 *
 * @param host the host's address
 * @param strategy the reporting strategy
 * @param workload the workload
 * @param seed the workload's seed
 * @param guestMemoryBytes guest RAM in bytes
 * @param seconds wall-clock seconds from the start to the detach
 * @param rounds workload rounds started
 * @param reportedBytes bytes in report batches the host acknowledged
 * @param reportBatches report batches the host acknowledged
 * @param failedBatches report batches that failed (their pages went back unreported)
 * @param reportPasses passes of the reporting agent
 * @param hintRounds free page hinting rounds the strategy started (hint-alloc-hold)
 * @param hintedPages pages the strategy hinted to the device (held until DONE; not counted as
 *     reported)
 * @param pagesWritten page writes (stamps) into the guest RAM
 * @param pagesVerified page verifications
 * @param migratedPages pages whose stamps a migration moved
 * @param lostWrites pages whose content the host lost
 * @param corruptPages pages whose content is not what was written
 * @param invariantViolations allocator invariant violations at the end
 * @param firstViolation the first violation, or empty
 * @param reconnects sessions resumed after the host went away
 * @param balloon what the balloon driver did (pages in 4 KiB units; the balloon is empty at the
 *     end, the driver having deflated it before the detach)
 * @param freePageVq what the free page virtqueue did ({@link FreePageVq.Stats#NONE} when the
 *     strategy does not hint under command ids)
 * @param initOnAllocPages pages zeroed (and dirtied) on allocation with init_on_alloc
 * @param residentPages pages the resident set (the kernel and page cache, {@link
 *     RunOptions#residentBytes()}) held after its fill; less than asked when memory ran out or
 *     the run ended during the fill
 * @param pausedCount pauses the host took the guest's Paused answer to
 * @param pausedMillis time the vCPUs were stopped, over every pause
 * @param pausedOwnedPages owned pages in the last Paused answer the host took
 * @param detached whether the host was told of the detach
 * @param failure why the run stopped early (host loss), or null
 */
public record RunSummary(
    String host,
    String strategy,
    String workload,
    long seed,
    long guestMemoryBytes,
    double seconds,
    long rounds,
    long reportedBytes,
    long reportBatches,
    long failedBatches,
    long reportPasses,
    long hintRounds,
    long hintedPages,
    long pagesWritten,
    long pagesVerified,
    long migratedPages,
    long lostWrites,
    long corruptPages,
    long invariantViolations,
    String firstViolation,
    long reconnects,
    DriverMetrics balloon,
    FreePageVq.Stats freePageVq,
    long initOnAllocPages,
    long residentPages,
    long pausedCount,
    long pausedMillis,
    long pausedOwnedPages,
    boolean detached,
    String failure) {

  /**
   * Checks that the driver's counters are there.
   *
   * @throws IllegalArgumentException if {@code balloon} is null
   */
  public RunSummary {
    if (balloon == null) {
      throw new IllegalArgumentException("balloon metrics must not be null (DriverMetrics.NONE)");
    }
    if (freePageVq == null) {
      throw new IllegalArgumentException("free page vq stats must not be null (Stats.NONE)");
    }
  }

  /**
   * The exit code: 1 if the host was lost, a write was lost or corrupted, or an invariant broke;
   * otherwise 0.
   *
   * @return 0 or 1
   */
  public int exitCode() {
    return problem().isPresent() ? 1 : 0;
  }

  /**
   * One line for people saying why the run failed.
   *
   * @return the line, or empty when it succeeded
   */
  public Optional<String> problem() {
    if (failure != null) {
      return Optional.of(failure);
    }
    if (lostWrites > 0 || corruptPages > 0) {
      return Optional.of(lostWrites + " lost write(s) and " + corruptPages
          + " corrupt page(s): the host discarded or changed pages the guest held");
    }
    if (invariantViolations > 0) {
      return Optional.of(invariantViolations + " allocator invariant violation(s); first: "
          + firstViolation);
    }
    return Optional.empty();
  }

  /**
   * The fields as snake_case keys in a stable order.
   *
   * @return the map
   */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("host", host);
    m.put("strategy", strategy);
    m.put("workload", workload);
    m.put("seed", seed);
    m.put("guest_memory_bytes", guestMemoryBytes);
    m.put("seconds", Math.round(seconds * 1000) / 1000.0);
    m.put("rounds", rounds);
    m.put("reported_bytes", reportedBytes);
    m.put("report_batches", reportBatches);
    m.put("failed_batches", failedBatches);
    m.put("report_passes", reportPasses);
    m.put("hint_rounds", hintRounds);
    m.put("hinted_pages", hintedPages);
    m.put("pages_written", pagesWritten);
    m.put("pages_verified", pagesVerified);
    m.put("migrated_pages", migratedPages);
    m.put("lost_writes", lostWrites);
    m.put("corrupt_pages", corruptPages);
    m.put("invariant_violations", invariantViolations);
    m.put("reconnects", reconnects);
    m.put("balloon_pages", balloon.balloonPages());
    m.put("inflated_pages", balloon.inflatedPages());
    m.put("deflated_pages", balloon.deflatedPages());
    m.put("oom_deflated_pages", balloon.oomDeflatedPages());
    m.put("balloon_migrations", balloon.migrations());
    m.put("stats_sent", balloon.statsSent());
    m.put("balloon_failures", balloon.failures());
    m.put("out_of_puff", balloon.outOfPuff());
    m.put("free_page_vq_descriptors", freePageVq.descriptors());
    m.put("free_page_vq_peak", freePageVq.peakDepth());
    m.put("free_page_vq_dropped", freePageVq.dropped());
    m.put("free_page_vq_max_lag_ms", Math.round(freePageVq.maxLag().toNanos() / 1e3) / 1e3);
    m.put("init_on_alloc_pages", initOnAllocPages);
    m.put("resident_pages", residentPages);
    m.put("paused_count", pausedCount);
    m.put("paused_ms_total", pausedMillis);
    m.put("paused_owned_pages", pausedOwnedPages);
    m.put("detached", detached);
    m.put("failure", failure == null ? "" : failure);
    return m;
  }
}
