package io.hintlab.guest.bench;

import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.PageAllocator;

/**
 * Order-0 alloc+free pairs on cpu 0 with GFP_KERNEL: each pair allocates a page, then frees the
 * oldest of a ring of live pages and puts the new page in its slot. Pages therefore live for a
 * ring's worth of pairs and circulate through the per-cpu list (or the buddy with pcp off) rather
 * than one page bouncing.
 */
final class Order0Pairs implements Measure.Batch {
  private final PageAllocator pa;
  private final int[] ring;
  private int head;

  /**
   * Allocates the ring.
   *
   * @throws IllegalArgumentException if ringSize is not a power of two in [1, 65536]
   */
  Order0Pairs(PageAllocator pa, int ringSize) {
    if (ringSize < 1 || ringSize > 65536 || Integer.bitCount(ringSize) != 1) {
      throw new IllegalArgumentException(
          "ring must be a power of two in [1, 65536], got " + ringSize);
    }
    this.pa = pa;
    this.ring = new int[ringSize];
    for (int i = 0; i < ringSize; i++) {
      ring[i] = allocOrFail(pa);
    }
  }

  private static int allocOrFail(PageAllocator pa) {
    int pfn = pa.allocPages(0, 0, Gfp.GFP_KERNEL);
    if (pfn < 0) {
      throw new IllegalStateException("order-0 GFP_KERNEL allocation failed");
    }
    return pfn;
  }

  @Override
  public void run(int n) {
    final PageAllocator a = pa;
    final int[] r = ring;
    final int mask = r.length - 1;
    int h = head;
    for (int i = 0; i < n; i++) {
      int pfn = a.allocPages(0, 0, Gfp.GFP_KERNEL);
      if (pfn < 0) {
        throw new IllegalStateException("order-0 GFP_KERNEL allocation failed");
      }
      a.freePages(0, r[h], 0);
      r[h] = pfn;
      h = (h + 1) & mask;
    }
    head = h;
  }

  /** Frees the ring. */
  void release() {
    for (int pfn : ring) {
      pa.freePages(0, pfn, 0);
    }
  }
}
