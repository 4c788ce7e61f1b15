package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MigrateType.MOVABLE;
import static io.hintlab.guest.mm.MmTestSupport.freeList;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The two hooks page_reporting_cycle() and page_reporting_process_zone() use besides those of
 * {@link ReportingHooksTest}: list_rotate_to_front() on a free list and the zone gate
 * zone_watermark_ok(zone, 0, mark, 0, ALLOC_CMA).
 *
 * <p>The fixture is one DMA32 zone [4096, 12288) of eight order-10 blocks on the MOVABLE list in
 * pfn order, pcp off, min_free_kbytes 1024.
 */
class ReportingCycleHooksTest {
  private static final int PAGES = 8192;
  private static final List<Integer> BOOT_LIST =
      List.of(4096, 5120, 6144, 7168, 8192, 9216, 10240, 11264);

  private static PageAllocator boot() {
    return MmTestSupport.dma32Only(PAGES, b -> b.pcp(false).minFreeKbytes(1024));
  }

  private static void rotate(Zone z, int pfn) {
    z.lock.lock();
    try {
      z.rotateFreeListTo(pfn);
    } finally {
      z.lock.unlock();
    }
  }

  // ---------------------------------------------------------------- list_rotate_to_front

  @ParameterizedTest(name = "rotate to {0}")
  @CsvSource({
    // the new head, then the list head first
    "7168, '7168 8192 9216 10240 11264 4096 5120 6144'",
    "11264, '11264 4096 5120 6144 7168 8192 9216 10240'",
    "5120, '5120 6144 7168 8192 9216 10240 11264 4096'",
    "4096, '4096 5120 6144 7168 8192 9216 10240 11264'" // list_is_first(): unchanged
  })
  void shouldRotateTheListSoThatTheBlockBecomesTheHead(int pfn, String expected) {
    // list_rotate_to_front(entry, list): list_move_tail(list, entry), i.e. the list head moves
    // to just before entry; the entries before it follow the old tail in their order
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    assertEquals(BOOT_LIST, freeList(z, 10, MOVABLE));
    rotate(z, pfn);
    List<Integer> want =
        java.util.Arrays.stream(expected.split(" ")).map(Integer::valueOf).toList();
    assertEquals(want, freeList(z, 10, MOVABLE));
    assertEquals(8, z.freeListLength(10, MOVABLE));
    assertEquals(8, z.nrFree(10));
    InvariantChecker.check(a);
  }

  @Test
  void shouldKeepTheListUsableAtBothEndsAfterARotation() {
    // the rotated list's head and tail links are what list_add/list_add_tail/list_del use next
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    rotate(z, 8192);
    assertEquals(8192, a.allocPages(0, 10, Gfp.GFP_HIGHUSER_MOVABLE), "the new head goes first");
    z.lock.lock();
    try {
      assertEquals(1024, z.isolateFreePage(7168, 10), "the new tail");
      z.putbackIsolatedPage(7168, 10, MOVABLE);
    } finally {
      z.lock.unlock();
    }
    assertEquals(List.of(9216, 10240, 11264, 4096, 5120, 6144, 7168), freeList(z, 10, MOVABLE));
    a.freePages(0, 8192, 10);
    assertEquals(8, freeList(z, 10, MOVABLE).size());
    InvariantChecker.check(a);
  }

  @Test
  void shouldLeaveASingleBlockListAlone() {
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    int keep = a.allocPages(0, 9, Gfp.GFP_HIGHUSER_MOVABLE); // splits 4096: 4608 is alone
    assertEquals(4096, keep);
    assertEquals(List.of(4608), freeList(z, 9, MOVABLE));
    rotate(z, 4608);
    assertEquals(List.of(4608), freeList(z, 9, MOVABLE));
    InvariantChecker.check(a);
  }

  @Test
  void shouldRejectRotatingToSomethingThatIsNotAFreeBlockOrWithoutTheLock() {
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> rotate(z, 4097));
    assertEquals("pfn 4097 is not a free block of zone DMA32", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> rotate(z, 100));
    assertEquals("pfn 100 is not a free block of zone DMA32", e.getMessage());
    IllegalStateException s =
        assertThrows(IllegalStateException.class, () -> z.rotateFreeListTo(5120));
    assertEquals("zone DMA32 lock not held", s.getMessage());
    assertEquals(BOOT_LIST, freeList(z, 10, MOVABLE));
    InvariantChecker.check(a);
  }

  // ---------------------------------------------------------------- zone gate

  @Test
  void shouldPassTheGateOnlyWithMoreFreePagesThanTheMark() {
    // __zone_watermark_ok(): false if free_pages <= min + lowmem_reserve[highest_zoneidx]
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    assertTrue(z.watermarkOkCma(PAGES - 1));
    assertFalse(z.watermarkOkCma(PAGES));
    a.allocPages(0, 0, Gfp.GFP_KERNEL);
    assertFalse(z.watermarkOkCma(PAGES - 1));
    assertTrue(z.watermarkOkCma(PAGES - 2));
  }

  @Test
  void shouldCountFreeCmaPagesTowardTheGate() {
    // ALLOC_CMA: NR_FREE_CMA_PAGES stay usable in __zone_watermark_ok()
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    MmTestSupport.makeMaxBlockOfType(z, MigrateType.CMA);
    assertEquals(1024, z.freeCmaPages());
    assertTrue(z.watermarkOkCma(PAGES - 1));
    assertFalse(z.watermarkOk(0, PAGES - 1, 0, 0), "without ALLOC_CMA the CMA block is unusable");
  }
}
