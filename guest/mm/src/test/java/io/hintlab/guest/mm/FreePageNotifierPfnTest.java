package io.hintlab.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The positional form of the free-page hook: {@code __free_one_page()} names the head pfn of the
 * block after merging, as the per-zone bitmap hinting hook (Nitesh Narayan Lal, v10, 2019) did.
 * Same fixture as {@link ReportingHooksTest}: one DMA32 zone [4096, 12288), pcp off.
 */
class FreePageNotifierPfnTest {
  @Test
  void shouldNameTheHeadOfTheMergedBlock() {
    PageAllocator a = MmTestSupport.dma32Only(8192, b -> b.pcp(false).minFreeKbytes(1024));
    Zone z = MmTestSupport.dma32(a);
    List<int[]> seen = new ArrayList<>();
    z.setFreePageNotifier(
        new FreePageNotifier() {
          @Override
          public void onFree(Zone zone, int order) {
            throw new AssertionError("the free path calls the positional form");
          }

          @Override
          public void onFree(Zone zone, int pfn, int order) {
            assertTrue(zone.lock.isHeldByCurrentThread(), "called under the zone lock");
            seen.add(new int[] {pfn, order});
          }
        });
    int small = a.allocPages(0, 0, Gfp.GFP_HIGHUSER_MOVABLE);
    int other = a.allocPages(0, 0, Gfp.GFP_HIGHUSER_MOVABLE);
    assertEquals(List.of(4096, 4097), List.of(small, other));
    a.freePages(0, other, 0); // buddy 4096 in use: stays an order-0 block at 4097
    a.freePages(0, small, 0); // merges up to the order-10 block at 4096
    assertEquals(2, seen.size());
    assertEquals(List.of(4097, 0), List.of(seen.get(0)[0], seen.get(0)[1]));
    assertEquals(List.of(4096, 10), List.of(seen.get(1)[0], seen.get(1)[1]));
    InvariantChecker.check(a);
  }

  @Test
  void shouldForwardToTheOrderOnlyFormByDefault() {
    PageAllocator a = MmTestSupport.dma32Only(8192, b -> b.pcp(false).minFreeKbytes(1024));
    Zone z = MmTestSupport.dma32(a);
    List<Integer> orders = new ArrayList<>();
    z.setFreePageNotifier((zone, order) -> orders.add(order));
    a.freePages(0, a.allocPages(0, 3, Gfp.GFP_HIGHUSER_MOVABLE), 3);
    assertEquals(List.of(10), orders);
  }
}
