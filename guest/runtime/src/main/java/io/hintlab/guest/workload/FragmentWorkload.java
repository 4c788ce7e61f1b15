package io.hintlab.guest.workload;

import io.hintlab.guest.mm.PageAllocator;

/**
 * {@code fragment}: fills memory with order 0..3 allocations of mixed migratetypes (30 %
 * unmovable, 20 % reclaimable, 50 % movable), freeing a random held block in one step of five
 * while filling, until it holds 85 % of the pages that were free at the start of the run; then
 * frees a random half of its blocks. What is left free is scattered between allocated pages, so
 * buddyinfo shifts toward low orders, and unmovable and reclaimable allocations fall back to (and
 * claim) movable pageblocks on the way. One op is one allocation attempt of the fill phase; ops 0
 * fills to the target. The fill also stops after 64 failed allocations in a row.
 */
public final class FragmentWorkload extends BaseWorkload {
  /** Registry name. */
  public static final String NAME = "fragment";

  private static final Mix MIX = new Mix(new int[] {55, 20, 15, 10}, new int[] {30, 20, 50});
  private static final double FILL = 0.85;
  private static final int CHURN_ONE_IN = 5;
  private static final int MAX_FAILURES_IN_A_ROW = 64;

  FragmentWorkload(PageAllocator pa, long seed) {
    super(pa, seed);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  void execute(long ops) {
    long target = live.pages() + (long) (pa.freePages() * FILL);
    long cap = ops == 0 ? Long.MAX_VALUE : ops;
    long attempts = 0;
    int failuresInARow = 0;
    while (live.pages() < target && attempts < cap && failuresInARow < MAX_FAILURES_IN_A_ROW) {
      if (live.size() > 0 && rnd.nextInt(CHURN_ONE_IN) == 0) {
        freeRandom();
        continue;
      }
      attempts++;
      failuresInARow = alloc(MIX.order(rnd), MIX.gfp(rnd)) ? 0 : failuresInARow + 1;
    }
    // Free a random half. Going down, removeAt() only moves already visited blocks.
    for (int i = live.size() - 1; i >= 0; i--) {
      if (rnd.nextBoolean()) {
        freeAt(i);
      }
    }
  }
}
