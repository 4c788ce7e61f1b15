package io.hintlab.guest.mm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** post_alloc_hook()'s init_on_alloc: every successful allocation, and only those, is initialized. */
class PageInitializerTest {
  @Test
  void shouldInitializeEverySuccessfulAllocationOnceAndNoFailedOne() {
    PageAllocator a = new PageAllocator(MmConfig.forMemory(64L << 20));
    List<int[]> inits = new ArrayList<>();
    a.setPageInitializer((pfn, order) -> inits.add(new int[] {pfn, order}));
    int p0 = a.allocPages(0, 0, Gfp.GFP_HIGHUSER_MOVABLE);
    int p3 = a.allocPages(0, 3, Gfp.GFP_KERNEL);
    assertEquals(2, inits.size());
    assertArrayEquals(new int[] {p0, 0}, inits.get(0));
    assertArrayEquals(new int[] {p3, 3}, inits.get(1));
    int more = 0;
    while (a.allocPages(0, 10, Gfp.GFP_NOWAIT | Gfp.__GFP_DMA) >= 0) {
      more++; // until DMA has no order-10 block left: that last call fails
    }
    assertEquals(2 + more, inits.size(), "a failed allocation initializes nothing");
    a.freePages(0, p0, 0);
    assertEquals(2 + more, inits.size(), "freeing initializes nothing");
    a.setPageInitializer(null);
    a.allocPages(0, 0, Gfp.GFP_KERNEL);
    assertEquals(2 + more, inits.size(), "null removes the initializer");
  }
}
