package io.hintlab.guest.workload;

import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.PageAllocator;

/**
 * {@code memhog}: the memhog test program in a loop: allocate {@code bytes} (default: half of the
 * memory free when the workload was created) as anonymous memory, one order-0
 * GFP_HIGHUSER_MOVABLE page at a time, touching (writing) each page as it is faulted in, then
 * verify and free all of it, last page first, as munmap does. An allocation that fails ends the
 * allocating half of the cycle (the program would be OOM-killed); what it got is freed. One op is
 * one cycle; ops 0 runs {@value #DEFAULT_OPS} cycles. The seed only picks the cpus.
 */
public final class MemhogWorkload extends BaseWorkload {
  /** Registry name. */
  public static final String NAME = "memhog";
  /** Cycles of a run with ops 0. */
  public static final long DEFAULT_OPS = 4;
  /** Its parameter: the bytes each cycle allocates. */
  static final WorkloadParam BYTES = new WorkloadParam("bytes", true,
      "bytes allocated, touched and freed each cycle (default: half of the free memory)");

  private final long pages;

  MemhogWorkload(PageAllocator pa, long seed, WorkloadConfig config) {
    super(pa, seed, config.writer());
    this.pages = sizeArgPages(pa, config, BYTES.key(), pa.freePages() / 2);
  }

  @Override
  public String name() {
    return NAME;
  }

  /** Pages allocated per cycle. */
  long pagesPerCycle() {
    return pages;
  }

  @Override
  void execute(long ops) {
    long cycles = ops == 0 ? DEFAULT_OPS : ops;
    for (long c = 0; c < cycles; c++) {
      for (long p = 0; p < pages; p++) {
        if (!alloc(0, Gfp.GFP_HIGHUSER_MOVABLE)) {
          break;
        }
      }
      // (also frees what a run abandoned by its step hook left held)
      for (int i = live.size() - 1; i >= 0; i--) {
        freeAt(i);
      }
    }
  }
}
