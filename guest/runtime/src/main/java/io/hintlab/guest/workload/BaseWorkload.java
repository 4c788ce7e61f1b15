package io.hintlab.guest.workload;

import io.hintlab.guest.mm.MovableOps;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.PageOwners;
import java.util.BitSet;
import java.util.SplittableRandom;

/**
 * The bookkeeping all workloads share: the seeded random source, the live blocks, the per-run
 * counters, and one allocation or free as a single call on a randomly chosen cpu.
 *
 * <p>The workload owns its blocks in the allocator's reverse map (an owner class registered per
 * workload, the block's {@link LiveBlocks} handle as owner handle), so compaction, contiguous
 * allocation and isolation can migrate its movable pages: the {@link MovableOps} callbacks move
 * the live entry, and later frees use the new pfn. (At most 63 workloads per allocator.)
 */
abstract class BaseWorkload implements Workload {
  final PageAllocator pa;
  final long seed;
  final SplittableRandom rnd;
  final LiveBlocks live;
  private final int nrCpus;
  private final int ownerClass;
  /** Handles of blocks isolated for migration right now. */
  private final BitSet isolated = new BitSet();
  private Runnable stepHook;

  long steps;
  long allocs;
  long failures;
  long frees;
  long pagesAllocated;
  long pagesFreed;

  BaseWorkload(PageAllocator pa, long seed) {
    if (pa == null) {
      throw new IllegalArgumentException("allocator must not be null");
    }
    this.pa = pa;
    this.seed = seed;
    this.rnd = new SplittableRandom(seed);
    this.nrCpus = pa.nrCpus();
    this.live = new LiveBlocks(1024);
    this.ownerClass = pa.owners().register(new Owner(), false);
  }

  /** The workload's movable_operations: a migrated block's live entry follows it. */
  private final class Owner implements MovableOps {
    @Override
    public boolean isolatePage(int pfn, int order, int handle) {
      int i = live.indexOf(handle);
      if (i < 0 || live.pfn(i) != pfn || isolated.get(handle)) {
        return false;
      }
      isolated.set(handle);
      return true;
    }

    @Override
    public int migratePage(int dst, int src, int order, int handle) {
      live.setPfn(live.indexOf(handle), dst);
      isolated.clear(handle);
      return MIGRATEPAGE_SUCCESS;
    }

    @Override
    public void putbackPage(int pfn, int order, int handle) {
      isolated.clear(handle);
    }
  }

  @Override
  public final long seed() {
    return seed;
  }

  @Override
  public final PageAllocator allocator() {
    return pa;
  }

  @Override
  public final LiveBlocks live() {
    return live;
  }

  @Override
  public final WorkloadResult run(long ops) {
    if (ops < 0) {
      throw new IllegalArgumentException("ops must be >= 0, got " + ops);
    }
    steps = 0;
    allocs = 0;
    failures = 0;
    frees = 0;
    pagesAllocated = 0;
    pagesFreed = 0;
    execute(ops);
    return new WorkloadResult(name(), seed, steps, allocs, failures, frees, pagesAllocated,
        pagesFreed, live.size(), live.pages());
  }

  /** The workload proper; ops is 0 for the default. */
  abstract void execute(long ops);

  @Override
  public final void setStepHook(Runnable hook) {
    this.stepHook = hook;
  }

  private void afterStep() {
    if (stepHook != null) {
      stepHook.run();
    }
  }

  @Override
  public final void releaseAll() {
    for (int i = live.size() - 1; i >= 0; i--) {
      pa.freePages(i % nrCpus, live.pfn(i), live.order(i));
      live.removeAt(i);
    }
  }

  /** The cpu of the next call: uniformly random, as tasks migrate between cpus. */
  final int cpu() {
    return nrCpus == 1 ? 0 : rnd.nextInt(nrCpus);
  }

  /** One allocation; a success is added to the live blocks. */
  final boolean alloc(int order, int gfp) {
    steps++;
    int h = live.reserveHandle();
    int pfn = pa.allocPages(cpu(), order, gfp, PageOwners.owner(ownerClass, h));
    if (pfn < 0) {
      live.releaseHandle(h);
      failures++;
      afterStep();
      return false;
    }
    live.add(pfn, order, h);
    allocs++;
    pagesAllocated += 1L << order;
    afterStep();
    return true;
  }

  /** Frees the i-th live block. */
  final void freeAt(int i) {
    steps++;
    int order = live.order(i);
    pa.freePages(cpu(), live.pfn(i), order);
    live.removeAt(i);
    frees++;
    pagesFreed += 1L << order;
    afterStep();
  }

  /** Frees a uniformly random live block; there must be one. */
  final void freeRandom() {
    freeAt(rnd.nextInt(live.size()));
  }
}
