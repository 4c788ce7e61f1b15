package io.hintlab.guest.workload;

import io.hintlab.guest.mm.ContigAlloc;
import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.PageIsolation;
import io.hintlab.guest.mm.ZoneType;
import java.util.Arrays;
import java.util.Map;

/**
 * {@code contig}: periodic contiguous allocations, as a driver allocating DMA buffers or gigantic
 * pages does: every {@code every} steps one alloc_contig_pages() of {@code size} bytes (default
 * 2 MiB; rounded up to pages) through {@link ContigAlloc}, highest zone ZONE_MOVABLE, each range
 * written and held for {@code hold} steps, then verified and freed with free_contig_range(). In
 * between, a background of movable order-0..2 allocations (page cache, anonymous memory) that the
 * contiguous allocations must migrate out of their way churns around a third of the memory free
 * when the workload was created. A contiguous allocation that succeeds counts as an allocation of
 * its pages, one that fails as a failed allocation; the result also counts {@code contig_success},
 * {@code contig_fail}, {@code contig_ebusy} (pageblock isolations that returned -EBUSY) and
 * {@code contig_held}. One op is one background step; ops 0 runs {@value #DEFAULT_OPS}.
 */
public final class ContigWorkload extends BaseWorkload {
  /** Registry name. */
  public static final String NAME = "contig";
  /** Background steps of a run with ops 0. */
  public static final long DEFAULT_OPS = 20_000;
  /** Default background steps between contiguous allocations. */
  public static final int DEFAULT_EVERY = 500;
  /** Default background steps a range is held. */
  public static final int DEFAULT_HOLD = 2000;
  /** Parameter: bytes per contiguous allocation. */
  static final WorkloadParam SIZE = new WorkloadParam("size", true,
      "bytes per contiguous allocation, rounded up to pages (default: 2M)");
  /** Parameter: the period. */
  static final WorkloadParam EVERY = new WorkloadParam("every", false,
      "background steps between contiguous allocations (default: " + DEFAULT_EVERY + ")");
  /** Parameter: how long a range is held. */
  static final WorkloadParam HOLD = new WorkloadParam("hold", false,
      "background steps a contiguous range is held (default: " + DEFAULT_HOLD + ")");

  private static final long DEFAULT_SIZE = 2L << 20;
  private static final Mix BACKGROUND = new Mix(new int[] {80, 12, 8}, new int[] {0, 0, 1});

  private final ContigAlloc contig;
  private final PageIsolation isolation;
  private final int nrPages;
  private final long every;
  private final long hold;
  private final long backgroundPages;
  /** The owner word stamped on contiguous ranges (a handle of its own, never in live). */
  private final int rangeOwner;
  /** Background steps so far (the clock of periods and holds). */
  private long now;
  // Held ranges: first pfn, expiry step, write generation.
  private int[] rangePfn = new int[8];
  private long[] rangeExpiry = new long[8];
  private long[] rangeGeneration = new long[8];
  private int ranges;
  private long success;
  private long fail;
  private long ebusyAtStart;

  ContigWorkload(PageAllocator pa, long seed, WorkloadConfig config) {
    super(pa, seed, config.writer());
    long pages = sizeArgPages(pa, config, SIZE.key(), DEFAULT_SIZE / pa.geometry().pageSize());
    this.nrPages = (int) pages; // at most the guest's memory, which fits an int of pages
    this.every = countArg(config, EVERY.key(), DEFAULT_EVERY, 1, Integer.MAX_VALUE);
    this.hold = countArg(config, HOLD.key(), DEFAULT_HOLD, 1, Integer.MAX_VALUE);
    this.isolation = new PageIsolation(pa);
    this.contig = new ContigAlloc(pa, isolation);
    this.backgroundPages = pa.freePages() / 3;
    this.rangeOwner = ownerWord(live.reserveHandle());
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  void resetCounters() {
    success = 0;
    fail = 0;
    ebusyAtStart = isolation.ebusyCount();
  }

  @Override
  void putCounters(Map<String, Long> out) {
    out.put("contig_success", success);
    out.put("contig_fail", fail);
    out.put("contig_ebusy", isolation.ebusyCount() - ebusyAtStart);
    out.put("contig_held", (long) ranges);
  }

  @Override
  int extraBlocks() {
    return ranges;
  }

  @Override
  long extraPages() {
    return (long) ranges * nrPages;
  }

  @Override
  void releaseExtra() {
    while (ranges > 0) {
      freeRange(ranges - 1, false);
    }
  }

  @Override
  void execute(long ops) {
    long n = ops == 0 ? DEFAULT_OPS : ops;
    for (long i = 0; i < n; i++) {
      now++;
      for (int r = ranges - 1; r >= 0; r--) {
        if (rangeExpiry[r] <= now) {
          freeRange(r, true);
        }
      }
      boolean below = live.pages() < backgroundPages;
      if (live.size() == 0 || (below ? (rnd.nextInt() & 3) != 0 : rnd.nextBoolean())) {
        alloc(BACKGROUND.order(rnd), Gfp.GFP_HIGHUSER_MOVABLE);
      } else {
        freeRandom();
      }
      if (now % every == 0) {
        allocRange();
      }
    }
  }

  /** One alloc_contig_pages(); a success is written and held. */
  private void allocRange() {
    steps++;
    int pfn = contig.allocContigPages(cpu(), nrPages, ZoneType.MOVABLE);
    if (pfn < 0) {
      failures++;
      fail++;
      afterStep();
      return;
    }
    if (ranges == rangePfn.length) {
      int cap = ranges * 2;
      rangePfn = Arrays.copyOf(rangePfn, cap);
      rangeExpiry = Arrays.copyOf(rangeExpiry, cap);
      rangeGeneration = Arrays.copyOf(rangeGeneration, cap);
    }
    long gen = nextGeneration();
    rangePfn[ranges] = pfn;
    rangeExpiry[ranges] = now + hold;
    rangeGeneration[ranges] = gen;
    ranges++;
    writer.write(pfn, nrPages, rangeOwner, gen);
    allocs++;
    success++;
    pagesAllocated += nrPages;
    afterStep();
  }

  /**
   * Verifies and frees the r-th held range; the last range takes its index. A step of the run
   * (counted, and followed by the step hook) unless it is part of {@link #releaseAll}.
   */
  private void freeRange(int r, boolean step) {
    int pfn = rangePfn[r];
    verifyRange(pfn, nrPages, rangeOwner, rangeGeneration[r]);
    ranges--;
    rangePfn[r] = rangePfn[ranges];
    rangeExpiry[r] = rangeExpiry[ranges];
    rangeGeneration[r] = rangeGeneration[ranges];
    contig.freeContigRange(cpu(), pfn, nrPages);
    if (step) {
      steps++;
      frees++;
      pagesFreed += nrPages;
      afterStep();
    }
  }
}
