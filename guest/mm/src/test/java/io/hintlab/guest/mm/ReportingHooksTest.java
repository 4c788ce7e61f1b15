package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MigrateType.MOVABLE;
import static io.hintlab.guest.mm.MigrateType.UNMOVABLE;
import static io.hintlab.guest.mm.MmTestSupport.freeList;
import static io.hintlab.guest.mm.MmTestSupport.take;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The hooks free page reporting uses (mm/page_alloc.c, mm/page_reporting.c):
 * __isolate_free_page(), __putback_isolated_page(), page_reporting_notify_free() and PageReported.
 *
 * <p>The fixture is one DMA32 zone [4096, 12288) of eight order-10 blocks, pcp off, with
 * min_free_kbytes 1024: min 256, low 320, high 384.
 */
class ReportingHooksTest {
  private static final int PAGES = 8192;

  private static PageAllocator boot() {
    return MmTestSupport.dma32Only(PAGES, b -> b.pcp(false).minFreeKbytes(1024));
  }

  private static int isolate(Zone z, int pfn, int order) {
    z.lock.lock();
    try {
      return z.isolateFreePage(pfn, order);
    } finally {
      z.lock.unlock();
    }
  }

  private static void putback(Zone z, int pfn, int order, int mt) {
    z.lock.lock();
    try {
      z.putbackIsolatedPage(pfn, order, mt);
    } finally {
      z.lock.unlock();
    }
  }

  private static boolean report(Zone z, int pfn, int order) {
    z.lock.lock();
    try {
      return z.setPageReported(pfn, order);
    } finally {
      z.lock.unlock();
    }
  }

  // ---------------------------------------------------------------- __isolate_free_page

  @Test
  void shouldRefuseToIsolateWhenTheMinWatermarkPlusTheBlockWouldBreak() {
    // __isolate_free_page(): watermark = _watermark[WMARK_MIN] + (1 << order);
    // zone_watermark_ok(zone, 0, watermark, 0, ALLOC_CMA) fails when free <= 256 + 1024
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    MemMap mm = a.memMap();
    List<Integer> used = new ArrayList<>();
    for (int i = 0; i < PAGES - 1280; i++) {
      used.add(a.allocPages(0, 0, Gfp.GFP_HIGHUSER_MOVABLE));
    }
    assertEquals(1280, z.freePages());
    assertEquals(List.of(11264), freeList(z, 10, MOVABLE), "the last block is untouched");
    assertEquals(0, isolate(z, 11264, 10));
    assertEquals(MemMap.K_BUDDY, mm.kind(11264));
    assertEquals(1280, z.freePages());
    a.freePages(0, used.get(0), 0);
    assertEquals(1024, isolate(z, 11264, 10));
    assertEquals(MemMap.K_TAKEN, mm.kind(11264));
    assertEquals(257, z.freePages(), "NR_FREE_PAGES drops by the block");
    assertEquals(0, z.nrFree(10));
    InvariantChecker.check(a);
    putback(z, 11264, 10, MOVABLE);
    assertEquals(1281, z.freePages());
    InvariantChecker.check(a);
  }

  @Test
  void shouldIsolateFromAnIsolatedPageblockWithoutAWatermarkCheck() {
    // __isolate_free_page(): the watermark applies only if !is_migrate_isolate(mt)
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    for (int i = 0; i < PAGES - 1280; i++) {
      a.allocPages(0, 0, Gfp.GFP_HIGHUSER_MOVABLE);
    }
    PageIsolation iso = new PageIsolation(a);
    assertEquals(0, iso.setMigratetypeIsolate(z, 11264, PageIsolation.Mode.OTHER, 11264, 11776));
    assertEquals(768, z.freePages(), "the isolated half is not counted");
    assertEquals(512, isolate(z, 11264, 9));
    assertEquals(MemMap.K_TAKEN, a.memMap().kind(11264));
    putback(z, 11264, 9, MigrateType.ISOLATE);
    assertEquals(List.of(11264), freeList(z, 9, MigrateType.ISOLATE));
    InvariantChecker.check(a);
    iso.undoIsolatePageRange(11264, 11776);
    assertEquals(1280, z.freePages());
    InvariantChecker.check(a);
  }

  @ParameterizedTest(name = "order {0}")
  @CsvSource({
    // order, pfn isolated, pageblock 4096 after, pageblock 4608 after
    "7, 4224, 0, 0", // below pageblock_order - 1: no pageblock changes
    "8, 4352, 1, 0", // half a pageblock: its pageblock becomes MOVABLE
    "9, 4608, 0, 1",
    "10, 4096, 1, 1" // every pageblock the block covers
  })
  void shouldTurnThePageblocksOfABlockOfAtLeastHalfAPageblockMovable(int order, int pfn,
      int lowerAfter, int upperAfter) {
    // __isolate_free_page(): if (order >= pageblock_order - 1) for each pageblock of the block,
    // if migratetype_is_mergeable(mt): move_freepages_block(zone, page, mt, MIGRATE_MOVABLE)
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    MemMap mm = a.memMap();
    assertEquals(4096, MmTestSupport.makeMaxBlockOfType(z, UNMOVABLE));
    if (order < 10) {
      assertEquals(4096, take(z, order, UNMOVABLE)); // the upper halves stay free
    }
    assertEquals(1 << order, isolate(z, pfn, order));
    assertEquals(lowerAfter, mm.getPfnblockMigratetype(4096), "pageblock 4096");
    assertEquals(upperAfter, mm.getPfnblockMigratetype(4608), "pageblock 4608");
    putback(z, pfn, order, mm.getPfnblockMigratetype(pfn));
    InvariantChecker.check(a);
  }

  @Test
  void shouldRejectIsolatingSomethingThatIsNotAFreeBlockOfThatOrder() {
    // __isolate_free_page() expects a PageBuddy head of that order; __putback_isolated_page():
    // lockdep_assert_held(&zone->lock)
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> isolate(z, 4096, 9));
    assertEquals("pfn 4096 is not a free block of order 9", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> putback(z, 4096, 10, MOVABLE));
    assertEquals("pfn 4096 is not a taken block of order 10", e.getMessage());
    IllegalStateException s =
        assertThrows(IllegalStateException.class, () -> z.isolateFreePage(4096, 10));
    assertEquals("zone DMA32 lock not held", s.getMessage());
    assertEquals(PAGES, z.freePages());
    InvariantChecker.check(a);
  }

  // ---------------------------------------------------------------- __putback_isolated_page

  @Test
  void shouldPutAnIsolatedBlockBackAtTheTailWithoutNotifying() {
    // __putback_isolated_page(): __free_one_page(..., FPI_SKIP_REPORT_NOTIFY | FPI_TO_TAIL)
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    List<Integer> notified = new ArrayList<>();
    z.setFreePageNotifier((zone, order) -> notified.add(order));
    assertEquals(1024, isolate(z, 4096, 10));
    putback(z, 4096, 10, MOVABLE);
    assertEquals(List.of(5120, 6144, 7168, 8192, 9216, 10240, 11264, 4096),
        freeList(z, 10, MOVABLE));
    assertTrue(notified.isEmpty(), "neither isolating nor putting back is a free");
    InvariantChecker.check(a);
  }

  @Test
  void shouldNotifyOrdinaryFreesWithTheOrderAfterMerging() {
    // __free_one_page(): page_reporting_notify_free(order) once the block is on its list
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    List<Integer> notified = new ArrayList<>();
    z.setFreePageNotifier((zone, order) -> {
      assertTrue(zone.lock.isHeldByCurrentThread(), "called under the zone lock");
      notified.add(order);
    });
    int big = a.allocPages(0, 10, Gfp.GFP_HIGHUSER_MOVABLE);
    int small = a.allocPages(0, 0, Gfp.GFP_HIGHUSER_MOVABLE);
    int other = a.allocPages(0, 0, Gfp.GFP_HIGHUSER_MOVABLE);
    assertEquals(List.of(4096, 5120, 5121), List.of(big, small, other));
    // split_large_buddy() frees the order-10 block as two order-9 halves: one notification
    // each, the second after merging into order 10
    a.freePages(0, big, 10);
    assertEquals(List.of(9, 10), notified);
    a.freePages(0, small, 0); // buddy 5121 in use: stays order 0
    a.freePages(0, other, 0); // merges all the way up
    assertEquals(List.of(9, 10, 0, 10), notified);
    z.setFreePageNotifier(null);
    a.freePages(0, a.allocPages(0, 0, Gfp.GFP_HIGHUSER_MOVABLE), 0);
    assertEquals(4, notified.size(), "null restores the no-op notifier");
    InvariantChecker.check(a);
  }

  // ---------------------------------------------------------------- PageReported

  @Test
  void shouldMarkABlockReportedOnlyWhileItIsAFreeBlockOfThatOrder() {
    // page_reporting_drain(): __SetPageReported() only if PageBuddy and buddy_order == order
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    MemMap mm = a.memMap();
    assertTrue(report(z, 4096, 10));
    assertTrue(mm.isReported(4096));
    assertFalse(report(z, 5120, 9), "wrong order");
    assertFalse(report(z, 5121, 0), "a tail of a free block");
    int used = a.allocPages(0, 4, Gfp.GFP_HIGHUSER_MOVABLE);
    assertFalse(report(z, used, 4), "allocated");
    assertFalse(mm.isReported(5120));
    assertFalse(mm.isReported(used));
    InvariantChecker.check(a);
  }

  @Test
  void shouldClearPageReportedWhenTheBlockIsAllocated() {
    // __del_page_from_free_list(): if (page_reported(page)) __ClearPageReported(page)
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    assertTrue(report(z, 4096, 10));
    assertEquals(4096, a.allocPages(0, 10, Gfp.GFP_HIGHUSER_MOVABLE));
    assertFalse(a.memMap().isReported(4096));
    a.freePages(0, 4096, 10);
    assertFalse(a.memMap().isReported(4096), "a freed block starts unreported");
    InvariantChecker.check(a);
  }

  @ParameterizedTest(name = "reported half at {0}")
  @CsvSource({"4608", "4096"})
  void shouldClearPageReportedWhenTheBlockMerges(int reportedHalf) {
    // __free_one_page(): the buddy leaves its list (__del_page_from_free_list clears the flag);
    // the merged block is a new free block, unreported
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    MemMap mm = a.memMap();
    assertEquals(4096, take(z, 9, MOVABLE));
    assertEquals(4608, take(z, 9, MOVABLE));
    int freedFirst = reportedHalf;
    int freedSecond = reportedHalf ^ 512;
    a.freePages(0, freedFirst, 9);
    assertTrue(report(z, freedFirst, 9));
    a.freePages(0, freedSecond, 9);
    assertEquals(10, mm.order(4096));
    assertFalse(mm.isReported(4096));
    assertFalse(mm.isReported(4608));
    InvariantChecker.check(a);
  }

  @Test
  void shouldKeepPageReportedWhenAFreeBlockMovesToAnotherTypesList() {
    // move_to_free_list(): list_move_tail() only; the block never left the free lists
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    MemMap mm = a.memMap();
    assertEquals(4096, take(z, 9, MOVABLE));
    assertTrue(report(z, 4608, 9));
    MmTestSupport.retypePageblock(z, 4608, UNMOVABLE);
    assertTrue(mm.isReported(4608));
    assertEquals(List.of(4608), freeList(z, 9, UNMOVABLE));
    InvariantChecker.check(a);
  }

  @Test
  void shouldClearPageReportedWhenTheBlockIsIsolatedForAReport() {
    // __isolate_free_page() -> del_page_from_free_list(): the flag goes with the list entry; the
    // reporting drain sets it again after __putback_isolated_page()
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    MemMap mm = a.memMap();
    assertTrue(report(z, 5120, 10));
    assertEquals(1024, isolate(z, 5120, 10));
    assertFalse(mm.isReported(5120));
    putback(z, 5120, 10, MOVABLE);
    assertFalse(mm.isReported(5120));
    assertTrue(report(z, 5120, 10));
    InvariantChecker.check(a);
  }
}
