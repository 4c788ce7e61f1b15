package io.hintlab.guest.workload;

import io.hintlab.guest.mm.PageAllocator;

/**
 * {@code fragment}: interleaves movable and unmovable allocations of mixed orders so that
 * high-order allocations start failing without compaction. It fills memory with order 0..3
 * allocations (80 % movable, 12 % unmovable, 8 % reclaimable), freeing a random held block in one
 * step of five while filling, until the allocator refuses 64 times in a row (memory is full down
 * to the watermarks); then it frees a random half of its blocks. What is left free is scattered
 * between allocated pages in small holes, so buddyinfo shifts toward low orders and an order-9
 * request finds no free pageblock; the movable pages in the way are what compaction can move,
 * the unmovable and reclaimable ones (grouped by mobility into their own pageblocks, and spilling
 * into movable ones through fallbacks) are what it cannot. One op is one allocation attempt of the
 * fill phase; ops 0 fills until memory is full.
 */
public final class FragmentWorkload extends BaseWorkload {
  /** Registry name. */
  public static final String NAME = "fragment";

  // type weights: UNMOVABLE, RECLAIMABLE, MOVABLE
  private static final Mix MIX = new Mix(new int[] {55, 20, 15, 10}, new int[] {12, 8, 80});
  private static final int CHURN_ONE_IN = 5;
  private static final int MAX_FAILURES_IN_A_ROW = 64;

  FragmentWorkload(PageAllocator pa, long seed, WorkloadConfig config) {
    super(pa, seed, config.writer());
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  void execute(long ops) {
    long cap = ops == 0 ? Long.MAX_VALUE : ops;
    long attempts = 0;
    int failuresInARow = 0;
    while (attempts < cap && failuresInARow < MAX_FAILURES_IN_A_ROW) {
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
