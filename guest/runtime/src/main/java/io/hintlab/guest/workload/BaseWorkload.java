package io.hintlab.guest.workload;

import io.hintlab.guest.mm.MovableOps;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.PageOwners;
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The bookkeeping all workloads share: the seeded random source, the live blocks, the per-run
 * counters, and one allocation or free as a single call on a randomly chosen cpu.
 *
 * <p>The workload owns its blocks in the allocator's reverse map (an owner class registered per
 * workload, the block's {@link LiveBlocks} handle as owner handle), so compaction, contiguous
 * allocation and isolation can migrate its movable pages: the {@link MovableOps} callbacks move
 * the live entry, and later frees use the new pfn. (At most 63 workloads per allocator.)
 *
 * <p>Every block allocated is written through the {@link PageWriter} (under the block's owner word
 * and a fresh generation) and verified through it just before it is freed; pages that fail the
 * check are counted as {@code bad_pages} in the result when a writer is attached.
 */
abstract class BaseWorkload implements Workload {
  final PageAllocator pa;
  final long seed;
  final SplittableRandom rnd;
  final LiveBlocks live;
  final PageWriter writer;
  private final boolean writing;
  private final int nrCpus;
  private final int ownerClass;
  /** Handles of blocks isolated for migration right now. */
  private final BitSet isolated = new BitSet();
  private Runnable stepHook;
  /** The generation each held block was written with, by handle. */
  private long[] generationOf = new long[1024];
  private long generation;

  long steps;
  long allocs;
  long failures;
  long frees;
  long pagesAllocated;
  long pagesFreed;
  long badPages;

  BaseWorkload(PageAllocator pa, long seed, PageWriter writer) {
    if (pa == null) {
      throw new IllegalArgumentException("allocator must not be null");
    }
    this.pa = pa;
    this.seed = seed;
    this.rnd = new SplittableRandom(seed);
    this.nrCpus = pa.nrCpus();
    this.live = new LiveBlocks(1024);
    this.writer = writer == null ? PageWriter.NONE : writer;
    this.writing = this.writer != PageWriter.NONE;
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
    badPages = 0;
    resetCounters();
    execute(ops);
    Map<String, Long> counters = new LinkedHashMap<>();
    putCounters(counters);
    if (writing) {
      counters.put("bad_pages", badPages);
    }
    return new WorkloadResult(name(), seed, steps, allocs, failures, frees, pagesAllocated,
        pagesFreed, live.size() + extraBlocks(), live.pages() + extraPages(), counters);
  }

  /** The workload proper; ops is 0 for the default. */
  abstract void execute(long ops);

  /** Resets the workload's own per-run counters; called at the start of each run. */
  void resetCounters() {}

  /** Adds the workload's own counters of this run to the result, in a stable order. */
  void putCounters(Map<String, Long> out) {}

  /** Blocks held outside {@link #live} (contiguous ranges). */
  int extraBlocks() {
    return 0;
  }

  /** Pages held outside {@link #live}. */
  long extraPages() {
    return 0;
  }

  /** Frees what is held outside {@link #live}, verifying it first. */
  void releaseExtra() {}

  @Override
  public final void setStepHook(Runnable hook) {
    this.stepHook = hook;
  }

  final void afterStep() {
    if (stepHook != null) {
      stepHook.run();
    }
  }

  @Override
  public final void releaseAll() {
    for (int i = live.size() - 1; i >= 0; i--) {
      verifyAt(i);
      pa.freePages(i % nrCpus, live.pfn(i), live.order(i));
      live.removeAt(i);
    }
    releaseExtra();
  }

  /** Pages of the guest's memory: the end of its highest zone. */
  static long memoryPages(PageAllocator pa) {
    long n = 0;
    for (var z : pa.zones()) {
      n = Math.max(n, (long) z.startPfn() + z.spannedPages());
    }
    return n;
  }

  /**
   * The size argument {@code key} in pages (rounded up), or {@code dfltPages} when not given.
   *
   * @throws IllegalArgumentException if the size is under a page or over the guest's memory
   */
  static long sizeArgPages(PageAllocator pa, WorkloadConfig config, String key, long dfltPages) {
    Long bytes = config.args().get(key);
    if (bytes == null) {
      return Math.max(1, dfltPages);
    }
    long pageSize = pa.geometry().pageSize();
    long memory = memoryPages(pa) * pageSize;
    if (bytes < pageSize) {
      throw new IllegalArgumentException(
          key + " must be at least a page (" + pageSize + " bytes), got " + bytes);
    }
    if (bytes > memory) {
      throw new IllegalArgumentException(
          key + " must be at most the guest's memory (" + memory + " bytes), got " + bytes);
    }
    return (bytes + pageSize - 1) / pageSize;
  }

  /**
   * The count argument {@code key}, or {@code dflt} when not given.
   *
   * @throws IllegalArgumentException if it is outside [min, max]
   */
  static long countArg(WorkloadConfig config, String key, long dflt, long min, long max) {
    long v = config.arg(key, dflt);
    if (v < min || v > max) {
      throw new IllegalArgumentException(
          key + " must be in [" + min + ", " + max + "], got " + v);
    }
    return v;
  }

  /** A new write generation. */
  final long nextGeneration() {
    return ++generation;
  }

  /** The owner word of the block with handle h. */
  final int ownerWord(int h) {
    return PageOwners.owner(ownerClass, h);
  }

  /** Verifies a range through the writer, counting bad pages. */
  final void verifyRange(int pfn, int nrPages, int owner, long gen) {
    if (writing) {
      badPages += writer.verify(pfn, nrPages, owner, gen);
    }
  }

  /** Verifies the i-th live block. */
  private void verifyAt(int i) {
    if (writing) {
      int h = live.handle(i);
      verifyRange(live.pfn(i), 1 << live.order(i), ownerWord(h), generationOf[h]);
    }
  }

  /** The cpu of the next call: uniformly random, as tasks migrate between cpus. */
  final int cpu() {
    return nrCpus == 1 ? 0 : rnd.nextInt(nrCpus);
  }

  /** One allocation on a random cpu; a success is added to the live blocks. */
  final boolean alloc(int order, int gfp) {
    return allocOn(cpu(), order, gfp);
  }

  /**
   * One allocation on the given cpu; a success is added to the live blocks (as the last entry).
   */
  final boolean allocOn(int cpu, int order, int gfp) {
    steps++;
    int h = live.reserveHandle();
    int owner = PageOwners.owner(ownerClass, h);
    int pfn = pa.allocPages(cpu, order, gfp, owner);
    if (pfn < 0) {
      live.releaseHandle(h);
      failures++;
      afterStep();
      return false;
    }
    live.add(pfn, order, h);
    if (writing) {
      if (h >= generationOf.length) {
        generationOf = Arrays.copyOf(generationOf, Math.max(h + 1, generationOf.length * 2));
      }
      long gen = nextGeneration();
      generationOf[h] = gen;
      writer.write(pfn, 1 << order, owner, gen);
    }
    allocs++;
    pagesAllocated += 1L << order;
    afterStep();
    return true;
  }

  /** Frees the i-th live block on a random cpu. */
  final void freeAt(int i) {
    freeAtOn(cpu(), i);
  }

  /** Frees the i-th live block on the given cpu, verifying its pages first. */
  final void freeAtOn(int cpu, int i) {
    steps++;
    int order = live.order(i);
    verifyAt(i);
    pa.freePages(cpu, live.pfn(i), order);
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
