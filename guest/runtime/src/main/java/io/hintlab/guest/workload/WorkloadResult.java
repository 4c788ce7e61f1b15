package io.hintlab.guest.workload;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one run of a workload did.
 *
 * @param workload the workload's name
 * @param seed the seed it ran with
 * @param steps allocator calls made (allocations attempted plus frees)
 * @param allocs successful allocations
 * @param failures allocations that returned -1
 * @param frees blocks freed
 * @param pagesAllocated pages in the successful allocations
 * @param pagesFreed pages in the freed blocks
 * @param liveBlocks blocks the workload holds at the end
 * @param livePages pages the workload holds at the end
 * @param counters the workload's own counters (snake_case keys, in a stable order): contiguous
 *     allocation outcomes, unmatched trace frees, pages that failed verification...; empty for
 *     workloads that have none
 */
public record WorkloadResult(
    String workload, long seed, long steps, long allocs, long failures, long frees,
    long pagesAllocated, long pagesFreed, int liveBlocks, long livePages,
    Map<String, Long> counters) {

  /** Copies the counters, keeping their order. */
  public WorkloadResult {
    counters = counters == null
        ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(counters));
  }

  /** A result without workload counters. */
  public WorkloadResult(
      String workload, long seed, long steps, long allocs, long failures, long frees,
      long pagesAllocated, long pagesFreed, int liveBlocks, long livePages) {
    this(workload, seed, steps, allocs, failures, frees, pagesAllocated, pagesFreed, liveBlocks,
        livePages, Map.of());
  }

  /** The fields as an ordered map with snake_case keys, for JSON output. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("workload", workload);
    m.put("seed", seed);
    m.put("steps", steps);
    m.put("allocs", allocs);
    m.put("alloc_failures", failures);
    m.put("frees", frees);
    m.put("pages_allocated", pagesAllocated);
    m.put("pages_freed", pagesFreed);
    m.put("live_blocks", liveBlocks);
    m.put("live_pages", livePages);
    m.putAll(counters);
    return m;
  }

  /** One line: name, seed and the counts. */
  public String summary() {
    StringBuilder sb = new StringBuilder(String.format(
        "workload %s (seed %d): %d allocs (%d pages), %d frees (%d pages), %d failed allocs, "
            + "%d blocks (%d pages) still held",
        workload, seed, allocs, pagesAllocated, frees, pagesFreed, failures, liveBlocks,
        livePages));
    counters.forEach((k, v) -> sb.append(", ").append(k).append(' ').append(v));
    return sb.toString();
  }
}
