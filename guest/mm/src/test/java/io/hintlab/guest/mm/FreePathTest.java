package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MigrateType.CMA;
import static io.hintlab.guest.mm.MigrateType.HIGHATOMIC;
import static io.hintlab.guest.mm.MigrateType.ISOLATE;
import static io.hintlab.guest.mm.MigrateType.MOVABLE;
import static io.hintlab.guest.mm.MigrateType.RECLAIMABLE;
import static io.hintlab.guest.mm.MigrateType.UNMOVABLE;
import static io.hintlab.guest.mm.MmTestSupport.freeList;
import static io.hintlab.guest.mm.MmTestSupport.freeOne;
import static io.hintlab.guest.mm.MmTestSupport.take;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The free path into the buddy lists (mm/page_alloc.c): __free_one_page() merging and its
 * pageblock no-merge rule, buddy_merge_likely() and FPI_TO_TAIL placement, split_large_buddy().
 *
 * <p>The fixture is one DMA32 zone [4096, 12288) of eight order-10 blocks, pcp lists off (every
 * free reaches the buddy at once) and min_free_kbytes 0 (no watermark in the way).
 */
class FreePathTest {
  private static final int ZONE_PAGES = 8192;

  private static PageAllocator boot() {
    return MmTestSupport.dma32Only(ZONE_PAGES, b -> b.pcp(false).minFreeKbytes(0));
  }

  private static void assertFreeBlock(MemMap mm, int pfn, int order, int mt) {
    assertEquals(MemMap.K_BUDDY, mm.kind(pfn), "pfn " + pfn + " kind");
    assertEquals(order, mm.order(pfn), "pfn " + pfn + " order");
    assertEquals(mt, mm.aux(pfn), "pfn " + pfn + " free list type");
  }

  private static List<Integer> maxBlocksFrom(int first) {
    List<Integer> out = new ArrayList<>();
    for (int p = first; p < 4096 + ZONE_PAGES; p += 1024) {
      out.add(p);
    }
    return out;
  }

  // ---------------------------------------------------------------- merging

  @Test
  void shouldMergeUpToMaxPageOrderWhenBothHalvesOfEveryLevelAreFree() {
    // __free_one_page(): while order < MAX_PAGE_ORDER and the buddy (pfn ^ 1 << order) is a free
    // block of the same order in the same zone, take it off its list and go one order up
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    MemMap mm = a.memMap();
    assertEquals(4096, take(z, 0, MOVABLE));
    assertEquals(4097, take(z, 0, MOVABLE));
    a.freePages(0, 4096, 0);
    assertFreeBlock(mm, 4096, 0, MOVABLE);
    assertEquals(ZONE_PAGES - 1, z.freePages());
    a.freePages(0, 4097, 0);
    assertFreeBlock(mm, 4096, 10, MOVABLE);
    for (int o = 0; o < 10; o++) {
      assertEquals(0, z.nrFree(o), "order " + o);
    }
    assertEquals(maxBlocksFrom(4096), freeList(z, 10, MOVABLE));
    assertEquals(ZONE_PAGES, z.freePages());
    InvariantChecker.check(a);
  }

  @Test
  void shouldStopMergingAtMaxPageOrderWhenTheBuddyIsFreeToo() {
    // while (order < MAX_PAGE_ORDER): an order-10 block never merges, even with a free buddy
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    assertEquals(4096, take(z, 10, MOVABLE));
    a.freePages(0, 4096, 10);
    assertFreeBlock(a.memMap(), 4096, 10, MOVABLE);
    assertFreeBlock(a.memMap(), 5120, 10, MOVABLE);
    assertEquals(8, z.nrFree(10));
    InvariantChecker.check(a);
  }

  @Test
  void shouldNotMergeWithAFreeBuddyInAnotherZone() {
    // page_is_buddy() requires the same zone: DMA32 [4096, 4352) and Normal [4352, 8192) meet
    // inside a pageblock; the order-8 blocks at 4096 and 4352 are buddies by pfn only
    PageAllocator a = new PageAllocator(MmConfig.builder()
        .zone(new ZoneSpec(ZoneType.DMA32, 4096, 256, 0))
        .zone(new ZoneSpec(ZoneType.NORMAL, 4352, 3840, 0))
        .pcp(false).minFreeKbytes(0).build());
    Zone dma32 = a.zone(ZoneType.DMA32);
    Zone normal = a.zone(ZoneType.NORMAL);
    assertFreeBlock(a.memMap(), 4096, 8, MOVABLE);
    assertFreeBlock(a.memMap(), 4352, 8, MOVABLE);
    assertEquals(4096, take(dma32, 8, MOVABLE));
    a.freePages(0, 4096, 8);
    assertFreeBlock(a.memMap(), 4096, 8, MOVABLE);
    assertEquals(List.of(4096), freeList(dma32, 8, MOVABLE));
    assertEquals(List.of(4352), freeList(normal, 8, MOVABLE));
    assertEquals(256, dma32.freePages());
    InvariantChecker.check(a);
  }

  /** Marks pageblock pfn as type mt, or isolated, under the zone lock (it holds no free page). */
  private static void setPageblock(Zone z, int pfn, int mt) {
    z.lock.lock();
    try {
      if (mt == ISOLATE) {
        z.mm.setPageblockIsolate(pfn, true);
        z.nrIsolatePageblock++;
      } else {
        z.setPageblockMigratetype(pfn, mt);
      }
    } finally {
      z.lock.unlock();
    }
  }

  @ParameterizedTest(name = "{0} pageblock on the {1} side")
  @CsvSource({
    "3, lower", "3, upper", // MIGRATE_HIGHATOMIC
    "4, lower", "4, upper", // MIGRATE_CMA
    "5, lower", "5, upper" // MIGRATE_ISOLATE
  })
  void shouldNotMergeAtPageblockOrderWhenOneSideIsNotMergeable(int special, String side) {
    // __free_one_page(): at order >= pageblock_order, if migratetype != buddy_mt and either is not
    // migratetype_is_mergeable() (HIGHATOMIC, CMA, ISOLATE), stop merging. The order-10 block is
    // freed by split_large_buddy() one pageblock at a time with each pageblock's own type, so the
    // lower half is freed first: "lower" tests the check from the freeing normal block's side,
    // "upper" from the freeing special block's side.
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    MemMap mm = a.memMap();
    int b = take(z, 10, MOVABLE);
    assertEquals(4096, b);
    int specialPb = side.equals("lower") ? b : b + 512;
    int normalPb = side.equals("lower") ? b + 512 : b;
    setPageblock(z, specialPb, special);
    a.freePages(0, b, 10);
    assertFreeBlock(mm, specialPb, 9, special);
    assertFreeBlock(mm, normalPb, 9, MOVABLE);
    assertEquals(7, z.nrFree(10));
    assertEquals(2, z.nrFree(9));
    long expectedFree = special == ISOLATE ? ZONE_PAGES - 512 : ZONE_PAGES;
    assertEquals(expectedFree, z.freePages(), "isolated pages are not NR_FREE_PAGES");
    assertEquals(special == CMA ? 512 : 0, z.freeCmaPages());
    assertEquals(special == HIGHATOMIC ? 512 : 0, z.freeHighatomic());
    InvariantChecker.check(a);
  }

  @ParameterizedTest(name = "lower {0}, upper {1}")
  @CsvSource({"1, 0", "0, 2", "2, 1", "1, 2"})
  void shouldMergeDifferentMergeableTypesAtPageblockOrderAndRetypeTheBuddy(int lower, int upper) {
    // __free_one_page(): mergeable types merge across pageblocks; "Match buddy type":
    // set_pageblock_migratetype(buddy, migratetype), so the merged block is all of the freed
    // block's type. split_large_buddy() frees the lower pageblock first, so the upper one is the
    // freed block and the lower one is the buddy.
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    MemMap mm = a.memMap();
    int b = take(z, 10, MOVABLE);
    setPageblock(z, b, lower);
    setPageblock(z, b + 512, upper);
    a.freePages(0, b, 10);
    assertFreeBlock(mm, b, 10, upper);
    assertEquals(upper, mm.getPfnblockMigratetype(b), "the buddy's pageblock took the type");
    assertEquals(upper, mm.getPfnblockMigratetype(b + 512));
    assertTrue(freeList(z, 10, upper).contains(b));
    assertEquals(ZONE_PAGES, z.freePages());
    InvariantChecker.check(a);
  }

  @Test
  void shouldFreeABlockLargerThanAPageblockPageblockByPageblockWithEachOnesType() {
    // split_large_buddy(): with pageblock_order 8 an order-10 block spans four pageblocks; each
    // order-8 chunk is freed with its own pageblock's type and __free_one_page() re-merges what
    // may merge: MOVABLE | ISOLATE | MOVABLE | MOVABLE -> 8 (Movable), 8 (Isolate), 9 (Movable)
    PageAllocator a = new PageAllocator(MmConfig.builder()
        .geometry(new Geometry(12, 11, 8))
        .zone(new ZoneSpec(ZoneType.DMA32, 4096, ZONE_PAGES, 0))
        .pcp(false).minFreeKbytes(0).build());
    Zone z = MmTestSupport.dma32(a);
    MemMap mm = a.memMap();
    int b = take(z, 10, MOVABLE);
    setPageblock(z, b + 256, ISOLATE);
    a.freePages(0, b, 10);
    assertFreeBlock(mm, b, 8, MOVABLE);
    assertFreeBlock(mm, b + 256, 8, ISOLATE);
    assertFreeBlock(mm, b + 512, 9, MOVABLE);
    assertEquals(ZONE_PAGES - 256, z.freePages());
    assertEquals(1, z.isolatedPageblocks());
    InvariantChecker.check(a);
  }

  @Test
  void shouldLetSplitLargeBuddyRemergeWhenAllPageblocksAreMergeable() {
    // split_large_buddy() + __free_one_page(): MOVABLE | RECLAIMABLE | UNMOVABLE | MOVABLE with
    // pageblock_order 8 ends as one order-10 block of the last chunk's type, every pageblock
    // retyped on the way (each merge retypes the buddy to the freeing chunk's type)
    PageAllocator a = new PageAllocator(MmConfig.builder()
        .geometry(new Geometry(12, 11, 8))
        .zone(new ZoneSpec(ZoneType.DMA32, 4096, ZONE_PAGES, 0))
        .pcp(false).minFreeKbytes(0).build());
    Zone z = MmTestSupport.dma32(a);
    MemMap mm = a.memMap();
    int b = take(z, 10, MOVABLE);
    setPageblock(z, b + 256, RECLAIMABLE);
    setPageblock(z, b + 512, UNMOVABLE);
    a.freePages(0, b, 10);
    // chunk 1 (RECLAIMABLE) merges chunk 0 -> order 9 RECLAIMABLE at b; chunk 3 (MOVABLE) merges
    // chunk 2 -> order 9 MOVABLE at b + 512, then the order-9 RECLAIMABLE buddy -> order 10 MOVABLE
    assertFreeBlock(mm, b, 10, MOVABLE);
    for (int pb = b; pb < b + 1024; pb += 256) {
      assertEquals(MOVABLE, mm.getPfnblockMigratetype(pb), "pageblock " + pb);
    }
    InvariantChecker.check(a);
  }

  // ---------------------------------------------------------------- head or tail

  /** Takes pages 4096..4103 one by one from a fresh zone. */
  private static void takeEightPages(Zone z) {
    for (int p = 4096; p < 4104; p++) {
      assertEquals(p, take(z, 0, MOVABLE), "expand() hands out the lowest pfn first");
    }
  }

  @Test
  void shouldPutAFreedBlockAtTheHeadUnlessFpiToTailAsksForTheTail() {
    // __free_one_page(): to_tail = FPI_TO_TAIL ? true : buddy_merge_likely(); then
    // __add_to_free_list() does list_add() (head) or list_add_tail()
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    takeEightPages(z);
    freeOne(z, 4096, 0, MOVABLE, 0); // buddy 4097 in use; parent's buddy 4098 in use: head
    freeOne(z, 4098, 0, MOVABLE, 0); // parent's buddy 4096 is order 0, not 1: head
    assertEquals(List.of(4098, 4096), freeList(z, 0, MOVABLE));
    freeOne(z, 4100, 0, MOVABLE, Zone.FPI_TO_TAIL);
    assertEquals(List.of(4098, 4096, 4100), freeList(z, 0, MOVABLE));
    freeOne(z, 4102, 0, MOVABLE, 0);
    assertEquals(List.of(4102, 4098, 4096, 4100), freeList(z, 0, MOVABLE));
    InvariantChecker.check(a);
  }

  @Test
  void shouldPutAFreedBlockAtTheTailWhenItsParentsBuddyIsFreeOneOrderUp() {
    // buddy_merge_likely(): higher = buddy_pfn & pfn; if the order+1 buddy of higher is a free
    // block of order+1, freeing our buddy would merge two levels, so queue at the tail
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    takeEightPages(z);
    freeOne(z, 4100, 0, MOVABLE, 0);
    freeOne(z, 4096, 0, MOVABLE, 0);
    freeOne(z, 4097, 0, MOVABLE, 0); // merges with 4096 into an order-1 block at 4096
    assertEquals(List.of(4096), freeList(z, 1, MOVABLE));
    assertEquals(List.of(4100), freeList(z, 0, MOVABLE));
    // 4099: buddy 4098 in use; higher = 4098, whose order-1 buddy 4096 is a free order-1 block
    freeOne(z, 4099, 0, MOVABLE, 0);
    assertEquals(List.of(4100, 4099), freeList(z, 0, MOVABLE));
    // 4102: buddy 4103 in use; higher = 4102, whose order-1 buddy 4100 is free but of order 0
    freeOne(z, 4102, 0, MOVABLE, 0);
    assertEquals(List.of(4102, 4100, 4099), freeList(z, 0, MOVABLE));
    InvariantChecker.check(a);
  }

  @Test
  void shouldPutAFreedBlockAtTheHeadAtMaxOrderMinusOneEvenIfItsParentsBuddyIsFree() {
    // buddy_merge_likely(): if (order >= MAX_PAGE_ORDER - 1) return false
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    MemMap mm = a.memMap();
    assertEquals(4096, take(z, 9, MOVABLE));
    assertEquals(4608, take(z, 9, MOVABLE));
    assertEquals(5120, take(z, 10, MOVABLE));
    assertEquals(6144, take(z, 9, MOVABLE)); // leaves 6656 on the order-9 list
    freeOne(z, 5120, 10, MOVABLE, 0);
    assertFreeBlock(mm, 5120, 10, MOVABLE); // the order-10 buddy of 4096's parent is free
    freeOne(z, 4096, 9, MOVABLE, 0);
    assertEquals(List.of(4096, 6656), freeList(z, 9, MOVABLE));
    InvariantChecker.check(a);
  }

  @Test
  void shouldNotNotifyPageReportingWhenFpiSkipReportNotifyIsSet() {
    // __free_one_page(): page_reporting_notify_free(order) unless FPI_SKIP_REPORT_NOTIFY
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    List<Integer> orders = new ArrayList<>();
    z.setFreePageNotifier((zone, order) -> orders.add(order));
    takeEightPages(z);
    freeOne(z, 4096, 0, MOVABLE, Zone.FPI_SKIP_REPORT_NOTIFY);
    assertTrue(orders.isEmpty());
    freeOne(z, 4097, 0, MOVABLE, 0);
    assertEquals(List.of(1), orders, "notified once, with the order after merging");
    assertFalse(a.memMap().isReported(4096));
    InvariantChecker.check(a);
  }
}
