package io.hintlab.guest.sim;

import io.hintlab.guest.mm.CompactionPolicy;
import io.hintlab.guest.mm.Gfp;

/**
 * What a simulation runs.
 *
 * @param workload the workload's registry name
 * @param seed the workload's seed
 * @param steps the budget in workload steps (allocator calls; one step is one simulated ms)
 * @param policy the compaction policy
 * @param thpEvery a THP (order-9) allocation attempt every this many steps; 0 for none
 * @param thpGfp the THP attempts' GFP flags
 * @param thpLifetimeSteps how long a THP is held before it is freed
 * @param contigEvery an alloc_contig_pages() attempt every this many steps; 0 for none
 * @param contigPages pages per contiguous allocation
 * @param checkEvery run the invariant checker every this many steps (0: only at the end)
 */
public record SimParams(String workload, long seed, long steps, CompactionPolicy policy,
    int thpEvery, int thpGfp, int thpLifetimeSteps, int contigEvery, int contigPages,
    int checkEvery) {

  /** THP attempts that may compact: khugepaged / madvised regions (GFP_TRANSHUGE). */
  public static final int GFP_TRANSHUGE = Gfp.GFP_TRANSHUGE_LIGHT | Gfp.__GFP_DIRECT_RECLAIM;
  /** Default THP attempt interval, in steps. */
  public static final int DEFAULT_THP_EVERY = 1000;
  /** Default THP lifetime: 30 simulated seconds. */
  public static final int DEFAULT_THP_LIFETIME = 30_000;

  /** Validates the parameters. */
  public SimParams {
    if (workload == null || policy == null) {
      throw new IllegalArgumentException("workload and policy must be set");
    }
    if (steps <= 0) {
      throw new IllegalArgumentException("the step budget must be > 0, got " + steps);
    }
    if (thpEvery < 0 || contigEvery < 0 || checkEvery < 0 || thpLifetimeSteps < 1) {
      throw new IllegalArgumentException("intervals must be >= 0 and the THP lifetime >= 1");
    }
    if (contigEvery > 0 && contigPages < 1) {
      throw new IllegalArgumentException("--contig-pages must be >= 1 with --contig-every");
    }
  }
}
