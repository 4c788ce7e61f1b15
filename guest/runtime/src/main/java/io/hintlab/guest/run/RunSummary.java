package io.hintlab.guest.run;

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
 * @param pagesWritten page writes (stamps) into the guest RAM
 * @param pagesVerified page verifications
 * @param migratedPages pages whose stamps a migration moved
 * @param lostWrites pages whose content the host lost
 * @param corruptPages pages whose content is not what was written
 * @param invariantViolations allocator invariant violations at the end
 * @param firstViolation the first violation, or empty
 * @param reconnects sessions resumed after the host went away
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
    long pagesWritten,
    long pagesVerified,
    long migratedPages,
    long lostWrites,
    long corruptPages,
    long invariantViolations,
    String firstViolation,
    long reconnects,
    boolean detached,
    String failure) {

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
    m.put("pages_written", pagesWritten);
    m.put("pages_verified", pagesVerified);
    m.put("migrated_pages", migratedPages);
    m.put("lost_writes", lostWrites);
    m.put("corrupt_pages", corruptPages);
    m.put("invariant_violations", invariantViolations);
    m.put("reconnects", reconnects);
    m.put("detached", detached);
    m.put("failure", failure == null ? "" : failure);
    return m;
  }
}
