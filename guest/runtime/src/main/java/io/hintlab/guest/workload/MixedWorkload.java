package io.hintlab.guest.workload;

import io.hintlab.guest.mm.PageAllocator;

/**
 * {@code mixed}: steady-state random allocation and free of orders 0..10, skewed to low orders
 * (half of the allocations are order 0, one in a hundred is order 8 or more), with 60 % movable,
 * 25 % unmovable and 15 % reclaimable allocations. It holds about half of the memory that was free
 * when it was created: below that it allocates in 60 % of the steps, above it frees in 60 %,
 * always a random held block. One op is one step (one allocation attempt or one free). This is
 * also the mixed workload of {@code bench alloc}.
 */
public final class MixedWorkload extends BaseWorkload {
  /** Registry name. */
  public static final String NAME = "mixed";
  /** Steps of a run with ops 0. */
  public static final long DEFAULT_OPS = 1_000_000;

  // Per mille; orders 0..10.
  private static final Mix MIX = new Mix(
      new int[] {500, 160, 100, 80, 50, 40, 30, 20, 10, 7, 3}, new int[] {25, 15, 60});
  /** 60 % of 256: the drift toward the target. */
  private static final int DRIFT = 154;

  private final long targetPages;
  private final int maxOrder;

  MixedWorkload(PageAllocator pa, long seed, WorkloadConfig config) {
    super(pa, seed, config.writer());
    this.targetPages = pa.freePages() / 2;
    this.maxOrder = pa.geometry().maxPageOrder();
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  void execute(long ops) {
    long n = ops == 0 ? DEFAULT_OPS : ops;
    for (long i = 0; i < n; i++) {
      int r = rnd.nextInt() & 0xff;
      boolean below = live.pages() < targetPages;
      if (live.size() == 0 || (below ? r < DRIFT : r >= DRIFT)) {
        alloc(Math.min(MIX.order(rnd), maxOrder), MIX.gfp(rnd));
      } else {
        freeRandom();
      }
    }
  }
}
