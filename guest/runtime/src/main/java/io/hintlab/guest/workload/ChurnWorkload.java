package io.hintlab.guest.workload;

import io.hintlab.guest.mm.PageAllocator;

/**
 * {@code churn}: a steady stream of allocations and frees of mixed orders (mostly order 0, some
 * order 1..5 and a few order-9 THPs) and all three pcp migratetypes (70 % movable, 20 %
 * unmovable, 10 % reclaimable), each allocated page written through the {@link PageWriter} and
 * verified before it is freed. The working set is bounded: it never holds more than {@code bytes}
 * (default: a quarter of the memory free when the workload was created). Below the bound it
 * allocates in three steps of four and frees a random held block in the fourth; an allocation
 * that would cross the bound frees a random held block instead. One op is one step (one
 * allocation attempt or one free); ops 0 runs {@value #DEFAULT_OPS} steps.
 */
public final class ChurnWorkload extends BaseWorkload {
  /** Registry name. */
  public static final String NAME = "churn";
  /** Steps of a run with ops 0. */
  public static final long DEFAULT_OPS = 100_000;
  /** Its parameter: the working-set bound. */
  static final WorkloadParam BYTES = new WorkloadParam("bytes", true,
      "bound of the working set (default: a quarter of the free memory)");

  // Per mille; orders 0..9.
  private static final Mix MIX = new Mix(
      new int[] {600, 170, 100, 50, 30, 10, 0, 0, 0, 40}, new int[] {20, 10, 70});

  private final long boundPages;
  private final int maxOrder;

  ChurnWorkload(PageAllocator pa, long seed, WorkloadConfig config) {
    super(pa, seed, config.writer());
    this.boundPages = sizeArgPages(pa, config, BYTES.key(), pa.freePages() / 4);
    this.maxOrder = pa.geometry().maxPageOrder();
  }

  @Override
  public String name() {
    return NAME;
  }

  /** The working-set bound in pages. */
  long boundPages() {
    return boundPages;
  }

  @Override
  void execute(long ops) {
    long n = ops == 0 ? DEFAULT_OPS : ops;
    for (long i = 0; i < n; i++) {
      int order = Math.min(MIX.order(rnd), maxOrder);
      int gfp = MIX.gfp(rnd);
      boolean allocate = (rnd.nextInt() & 3) != 0;
      boolean fits = live.pages() + (1L << order) <= boundPages;
      if (live.size() == 0) {
        alloc(fits ? order : 0, gfp); // the bound is at least a page
      } else if (allocate && fits) {
        alloc(order, gfp);
      } else {
        freeRandom();
      }
    }
  }
}
