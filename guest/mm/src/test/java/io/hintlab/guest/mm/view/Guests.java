package io.hintlab.guest.mm.view;

import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Model states the view tests print. */
final class Guests {
  private Guests() {}

  /** A 64 MiB guest right after boot (CONFIG_CMA on, one cpu). */
  static PageAllocator boot64m() {
    return new PageAllocator(MmConfig.forMemory(64L << 20));
  }

  /**
   * A 1 GiB guest with one cpu and CONFIG_CMA off right after boot: the zones (DMA at pfn 1,
   * DMA32 at 4096) and kernel configuration of the 6.1 capture.
   */
  static PageAllocator boot1gLikeCapture() {
    return new PageAllocator(MmConfig.builder().memory(1L << 30).cma(false).build());
  }

  /**
   * Allocates order-0 pages with gfp on cpu 0 until the allocator refuses, then frees every other
   * one in pfn order (so no freed page finds a free buddy) and drains the per-cpu lists, leaving
   * about half of memory as isolated order-0 free blocks.
   */
  static PageAllocator fragmentOrder0(PageAllocator a, int gfp) {
    List<Integer> pfns = new ArrayList<>();
    for (int pfn = a.allocPages(0, 0, gfp); pfn >= 0; pfn = a.allocPages(0, 0, gfp)) {
      pfns.add(pfn);
    }
    Collections.sort(pfns);
    for (int i = 0; i < pfns.size(); i += 2) {
      a.freePages(0, pfns.get(i), 0);
    }
    a.drainAllPages(null);
    return a;
  }

  /** {@link #fragmentOrder0} with unmovable (GFP_KERNEL) pages. */
  static PageAllocator fragmentOrder0(PageAllocator a) {
    return fragmentOrder0(a, Gfp.GFP_KERNEL);
  }
}
