package io.hintlab.guest.workload;

import io.hintlab.guest.mm.PageAllocator;

/**
 * {@code idle} (the default scenario's workload): allocates a working set of 30 % of the memory
 * free at the start of the run, mostly movable order-0 pages with some order 1..3 and THP-sized
 * (order 9) blocks and some unmovable and reclaimable kernel allocations, then stays idle. The
 * allocator model alone has no clock, so idling is {@value #IDLE_TICKS} seconds of what an idle
 * kernel still does: the vmstat worker's decay of the per-cpu lists ({@link
 * PageAllocator#refreshCpuVmStats}) and kswapd dropping a watermark boost. One op is one
 * working-set allocation; ops 0 allocates up to the 30 %.
 */
public final class IdleWorkload extends BaseWorkload {
  /** Registry name. */
  public static final String NAME = "idle";
  /** Seconds of idling (vmstat ticks) after the working set is allocated. */
  public static final int IDLE_TICKS = 30;

  private static final Mix MIX = new Mix(
      new int[] {820, 50, 40, 40, 0, 0, 0, 0, 0, 50}, new int[] {15, 10, 75});
  private static final double WORKING_SET = 0.30;
  private static final int MAX_FAILURES_IN_A_ROW = 64;

  private final int maxOrder;

  IdleWorkload(PageAllocator pa, long seed, WorkloadConfig config) {
    super(pa, seed, config.writer());
    this.maxOrder = pa.geometry().maxPageOrder();
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  void execute(long ops) {
    long target = live.pages() + (long) (pa.freePages() * WORKING_SET);
    long cap = ops == 0 ? Long.MAX_VALUE : ops;
    long attempts = 0;
    int failuresInARow = 0;
    while (live.pages() < target && attempts < cap && failuresInARow < MAX_FAILURES_IN_A_ROW) {
      attempts++;
      int order = Math.min(MIX.order(rnd), maxOrder);
      failuresInARow = alloc(order, MIX.gfp(rnd)) ? 0 : failuresInARow + 1;
    }
    for (int t = 0; t < IDLE_TICKS; t++) {
      pa.refreshCpuVmStats();
      pa.kswapdBalance();
    }
  }
}
