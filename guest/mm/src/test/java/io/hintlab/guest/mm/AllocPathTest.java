package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MigrateType.HIGHATOMIC;
import static io.hintlab.guest.mm.MigrateType.MOVABLE;
import static io.hintlab.guest.mm.MigrateType.RECLAIMABLE;
import static io.hintlab.guest.mm.MigrateType.UNMOVABLE;
import static io.hintlab.guest.mm.MmTestSupport.allocUntilFailure;
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
 * The allocation path (mm/page_alloc.c): __rmqueue_smallest() and expand(), the fallbacks[]
 * table, __rmqueue_claim()/try_to_claim_block() versus __rmqueue_steal(), ALLOC_NOFRAGMENT,
 * zone watermarks with the reserves each gfp may use, lowmem_reserve, the HIGHATOMIC reserve,
 * gfp decoding and argument checking.
 */
class AllocPathTest {
  /** One DMA32 zone [4096, 4096 + pages), pcp off, watermarks out of the way. */
  private static PageAllocator bare(int pages) {
    return MmTestSupport.dma32Only(pages, b -> b.pcp(false).minFreeKbytes(0));
  }

  private static void assertAllocated(MemMap mm, int pfn, int order, int mt) {
    assertEquals(MemMap.K_ALLOC, mm.kind(pfn), "pfn " + pfn + " kind");
    assertEquals(order, mm.order(pfn), "pfn " + pfn + " order");
    assertEquals(mt, mm.aux(pfn), "pfn " + pfn + " allocation migratetype");
    for (int p = pfn + 1; p < pfn + (1 << order); p++) {
      assertEquals(MemMap.K_TAIL, mm.kind(p), "tail " + p);
    }
  }

  // ---------------------------------------------------------------- __rmqueue_smallest, expand

  @Test
  void shouldSplitTheSmallestSuitableBlockAndHandOutItsLowestPart() {
    // __rmqueue_smallest(): the head of the first non-empty list from order up; expand() puts
    // page[size] (the upper half) on the free list of each order on the way down, so the caller
    // keeps the lowest pfn
    PageAllocator a = bare(8192);
    Zone z = MmTestSupport.dma32(a);
    assertEquals(4096, take(z, 0, MOVABLE));
    for (int o = 0; o < 10; o++) {
      assertEquals(List.of(4096 + (1 << o)), freeList(z, o, MOVABLE), "order " + o);
    }
    assertEquals(7, z.nrFree(10));
    // order 2: the order-2 list has 4100, no split
    assertEquals(4100, take(z, 2, MOVABLE));
    assertEquals(0, z.nrFree(2));
    // order 2 again: the smallest is now the order-3 block 4104, split into 4104 and 4108
    assertEquals(4104, take(z, 2, MOVABLE));
    assertEquals(List.of(4108), freeList(z, 2, MOVABLE));
    assertEquals(0, z.nrFree(3));
    assertEquals(8192 - 1 - 4 - 4, z.freePages());
    InvariantChecker.check(a);
  }

  @Test
  void shouldServeOrdersThePcpDoesNotHoldStraightFromTheBuddy() {
    // rmqueue(): !pcp_allowed_order(order) -> rmqueue_buddy() -> __rmqueue() -> smallest first
    PageAllocator a = bare(8192);
    MemMap mm = a.memMap();
    int gfp = Gfp.GFP_HIGHUSER_MOVABLE;
    assertEquals(4096, a.allocPages(0, 4, gfp));
    assertEquals(4112, a.allocPages(0, 4, gfp));
    assertEquals(4128, a.allocPages(0, 5, gfp));
    assertEquals(4352, a.allocPages(0, 8, gfp));
    assertEquals(4160, a.allocPages(0, 6, gfp));
    assertEquals(5120, a.allocPages(0, 10, gfp));
    assertAllocated(mm, 4096, 4, MOVABLE);
    assertAllocated(mm, 4352, 8, MOVABLE);
    assertAllocated(mm, 5120, 10, MOVABLE);
    assertEquals(16 + 16 + 32 + 256 + 64 + 1024, a.event(VmEvent.PGALLOC_DMA32));
    assertEquals(0, MmTestSupport.dma32(a).pcp(0).count());
    InvariantChecker.check(a);
  }

  // ---------------------------------------------------------------- fallbacks

  /** Four order-10 blocks [4096, 8192) typed lowest first; returns their pfns. */
  private static int[] typedMaxBlocks(Zone z, int... types) {
    int[] pfns = new int[types.length];
    for (int i = 0; i < types.length; i++) {
      pfns[i] = take(z, 10, MOVABLE);
      MmTestSupport.retypeAllocated(z, pfns[i], 10, types[i]);
    }
    for (int pfn : pfns) {
      MmTestSupport.freeToBuddy(z, pfn, 10);
    }
    return pfns;
  }

  private static int gfpOf(int mt) {
    return switch (mt) {
      case UNMOVABLE -> Gfp.GFP_KERNEL;
      case MOVABLE -> Gfp.GFP_HIGHUSER_MOVABLE;
      case RECLAIMABLE -> Gfp.GFP_KERNEL_RECLAIMABLE;
      default -> throw new IllegalArgumentException("type " + mt);
    };
  }

  @ParameterizedTest(name = "{0} prefers {1} to {2}")
  @CsvSource({
    // fallbacks[MIGRATE_PCPTYPES][MIGRATE_PCPTYPES - 1]
    "0, 2, 1", // UNMOVABLE   -> RECLAIMABLE, MOVABLE
    "1, 2, 0", // MOVABLE     -> RECLAIMABLE, UNMOVABLE
    "2, 0, 1" // RECLAIMABLE -> UNMOVABLE, MOVABLE
  })
  void shouldFallBackInTheOrderOfTheFallbacksTable(int start, int first, int second) {
    // __rmqueue_claim() -> find_suitable_fallback(): the first fallback type in table order with a
    // non-empty list; try_to_claim_block() takes an order-10 block whole and
    // change_pageblock_range() retypes both of its pageblocks
    PageAllocator a = bare(4096);
    Zone z = MmTestSupport.dma32(a);
    MemMap mm = a.memMap();
    // the second choice sits at the lower pfn, so list position cannot explain the result
    int[] b = typedMaxBlocks(z, second, first, second, second);
    int pfn = a.allocPages(0, 0, gfpOf(start));
    assertEquals(b[1], pfn);
    assertAllocated(mm, pfn, 0, start);
    assertEquals(start, mm.getPfnblockMigratetype(b[1]));
    assertEquals(start, mm.getPfnblockMigratetype(b[1] + 512), "all covered pageblocks");
    assertEquals(second, mm.getPfnblockMigratetype(b[0]));
    assertEquals(1, z.extfragEvents());
    assertEquals(0, z.extfragFragmenting(), "an order-10 fallback is not fragmenting");
    assertEquals(0, z.watermarkBoost(), "whole-block claims do not boost");
    InvariantChecker.check(a);
  }

  /**
   * Zone [4096, 8192) fully allocated as order-0 pages (split_page()) of allocation type
   * pageType; pageblock 4096 given type blockType; then {@code nFree} of its even pfns freed from
   * 4096 up (each page's buddy stays in use, so nothing merges and the last freed heads the list).
   */
  private static PageAllocator fragmented(int blockType, int pageType, int nFree) {
    PageAllocator a = bare(4096);
    Zone z = MmTestSupport.dma32(a);
    for (int i = 0; i < 4; i++) {
      int pfn = take(z, 10, MOVABLE);
      MmTestSupport.splitAllocated(a.memMap(), pfn, 10, MOVABLE);
    }
    MmTestSupport.retypePageblock(z, 4096, blockType);
    MmTestSupport.splitAllocated(a.memMap(), 4096, 9, pageType);
    for (int i = 0; i < nFree; i++) {
      a.freePages(0, 4096 + 2 * i, 0);
    }
    assertEquals(nFree, z.freePages());
    return a;
  }

  @Test
  void shouldClaimTheWholePageblockWhenHalfOfItIsFree() {
    // try_to_claim_block(), current_order < pageblock_order: free_pages + alike_pages >=
    // 1 << (pageblock_order - 1) (256) -> __move_freepages_block() to start_type's list tails,
    // set_pageblock_migratetype(), __rmqueue_smallest(start_type). Here 256 free + 0 alike
    // (the other 256 pages are movable).
    PageAllocator a = fragmented(MOVABLE, MOVABLE, 256);
    Zone z = MmTestSupport.dma32(a);
    MemMap mm = a.memMap();
    int pfn = a.allocPages(0, 0, Gfp.GFP_KERNEL);
    assertEquals(4096, pfn, "moved in pfn order to the tail, so the lowest is the head");
    assertEquals(UNMOVABLE, mm.getPfnblockMigratetype(4096));
    assertEquals(0, z.freeListLength(0, MOVABLE));
    assertEquals(255, z.freeListLength(0, UNMOVABLE));
    assertEquals(1, z.extfragFragmenting());
    InvariantChecker.check(a);
  }

  @Test
  void shouldBoostTheWatermarkOnAFragmentingFallbackAndWakeKswapdForKswapdAllocations() {
    // try_to_claim_block() -> boost_watermark(): max_boost = max(pageblock_nr_pages,
    // high * watermark_boost_factor / 10000) = max(512, 8 * 15000 / 10000); the boost grows by a
    // pageblock; ALLOC_KSWAPD sets ZONE_BOOSTED_WATERMARK, which rmqueue() tests and clears on
    // its way out of the same allocation, waking kswapd
    PageAllocator a = fragmented(MOVABLE, MOVABLE, 256);
    Zone z = MmTestSupport.dma32(a);
    assertEquals(8, z.watermark(Zone.WMARK_HIGH));
    a.allocPages(0, 0, Gfp.GFP_KERNEL);
    assertEquals(512, z.watermarkBoost());
    assertEquals(8 + 512, z.wmarkPages(Zone.WMARK_HIGH));
    assertFalse(z.boostedWatermark, "rmqueue() cleared ZONE_BOOSTED_WATERMARK");
    assertEquals(1, a.kswapdWakeups());
    a.allocPages(0, 0, Gfp.GFP_KERNEL);
    assertEquals(1, a.kswapdWakeups(), "woken once per boost, not per allocation");
    assertEquals(1, a.kswapdBalance(), "balance_pgdat() drops the boost");
    assertEquals(0, z.watermarkBoost());
    assertFalse(z.boostedWatermark);
    InvariantChecker.check(a);
  }

  @Test
  void shouldStealWithoutClaimingWhenLessThanHalfThePageblockIsFreeOrAlike() {
    // 255 free + 0 alike < 256: try_to_claim_block() returns NULL; __rmqueue_steal() takes the
    // head of the fallback list at the smallest order and the pageblock keeps its type
    PageAllocator a = fragmented(MOVABLE, MOVABLE, 255);
    Zone z = MmTestSupport.dma32(a);
    MemMap mm = a.memMap();
    int pfn = a.allocPages(0, 0, Gfp.GFP_KERNEL);
    assertEquals(4096 + 2 * 254, pfn, "the last page freed heads the list");
    assertEquals(MOVABLE, mm.getPfnblockMigratetype(4096));
    assertAllocated(mm, pfn, 0, UNMOVABLE);
    assertEquals(254, z.freeListLength(0, MOVABLE));
    assertEquals(1, z.extfragEvents());
    assertEquals(1, z.extfragFragmenting());
    InvariantChecker.check(a);
  }

  @Test
  void shouldCountUnmovablePagesOfAMovableBlockAsAlikeWhenAnUnmovableRequestFallsBack() {
    // alike_pages = pageblock_nr_pages - (free_pages + movable_pages) when falling back from a
    // MOVABLE block: 10 free + 502 unmovable in use >= 256
    PageAllocator a = fragmented(MOVABLE, UNMOVABLE, 10);
    a.allocPages(0, 0, Gfp.GFP_KERNEL);
    assertEquals(UNMOVABLE, a.memMap().getPfnblockMigratetype(4096));
    InvariantChecker.check(a);
  }

  @ParameterizedTest(name = "{0} free pages")
  @CsvSource({"255, false", "256, true"})
  void shouldCountNoAlikePagesWhenFallingBackBetweenUnmovableAndReclaimable(int free,
      boolean claimed) {
    // "UNMOVABLE falling back to RECLAIMABLE or vice versa, be conservative": alike_pages = 0, so
    // only free pages count even though every page in use is unmovable
    PageAllocator a = fragmented(UNMOVABLE, UNMOVABLE, free);
    int pfn = a.allocPages(0, 0, Gfp.GFP_KERNEL_RECLAIMABLE);
    assertTrue(pfn >= 4096 && pfn < 4608);
    assertEquals(claimed ? RECLAIMABLE : UNMOVABLE, a.memMap().getPfnblockMigratetype(4096));
    InvariantChecker.check(a);
  }

  @Test
  void shouldNotTryToClaimForASmallMovableRequestWhenFallingBack() {
    // should_try_claim_block(): false for MOVABLE below pageblock_order / 2 (4) unless the
    // fallback block itself is that large; the claim scan stops at order 3 (-2 from
    // find_suitable_fallback()), so no boost either, and __rmqueue_steal() takes a page
    PageAllocator a = fragmented(UNMOVABLE, MOVABLE, 300);
    Zone z = MmTestSupport.dma32(a);
    MemMap mm = a.memMap();
    int pfn = a.allocPages(0, 0, Gfp.GFP_HIGHUSER_MOVABLE);
    assertEquals(4096 + 2 * 299, pfn);
    assertEquals(UNMOVABLE, mm.getPfnblockMigratetype(4096), "300 free would have been enough");
    assertEquals(0, z.watermarkBoost(), "try_to_claim_block() never ran");
    assertAllocated(mm, pfn, 0, MOVABLE);
    InvariantChecker.check(a);
  }

  @Test
  void shouldClaimForAMovableRequestOfAtLeastHalfAPageblockOrderCountingMovablePagesAlike() {
    // should_try_claim_block(order >= pageblock_order / 2); alike_pages = movable_pages for a
    // MOVABLE start type: 16 free (one order-4 buddy at 4096) + 496 movable in use >= 256
    PageAllocator a = fragmented(UNMOVABLE, MOVABLE, 0);
    Zone z = MmTestSupport.dma32(a);
    for (int p = 4096; p < 4112; p++) {
      a.freePages(0, p, 0);
    }
    assertEquals(List.of(4096), freeList(z, 4, UNMOVABLE));
    int pfn = a.allocPages(0, 4, Gfp.GFP_HIGHUSER_MOVABLE);
    assertEquals(4096, pfn);
    assertEquals(MOVABLE, a.memMap().getPfnblockMigratetype(4096));
    InvariantChecker.check(a);
  }

  // ---------------------------------------------------------------- ALLOC_NOFRAGMENT

  /** DMA32 [4096, 8192) and Normal [8192, 12288); frag* zones left with every other page free. */
  private static PageAllocator twoZones(boolean fragDma32, boolean fragNormal) {
    PageAllocator a = new PageAllocator(MmConfig.builder()
        .zone(new ZoneSpec(ZoneType.DMA32, 4096, 4096, 0))
        .zone(new ZoneSpec(ZoneType.NORMAL, 8192, 4096, 0))
        .pcp(false).minFreeKbytes(0).build());
    for (Zone z : a.zones()) {
      if (z.type() == ZoneType.DMA32 ? !fragDma32 : !fragNormal) {
        continue;
      }
      for (int i = 0; i < 4; i++) {
        int pfn = take(z, 10, MOVABLE);
        MmTestSupport.splitAllocated(a.memMap(), pfn, 10, MOVABLE);
      }
      for (int p = z.startPfn(); p < z.endPfn(); p += 2) {
        a.freePages(0, p, 0);
      }
      assertEquals(2048, z.freePages());
    }
    return a;
  }

  @Test
  void shouldUseALowerZonesWholePageblockRatherThanFragmentNormalWhenNofragmentIsSet() {
    // alloc_flags_nofragment(): ALLOC_NOFRAGMENT when the preferred zone is ZONE_NORMAL;
    // __rmqueue_claim() then only takes blocks >= pageblock_order and __rmqueue_steal() is
    // skipped, so Normal (only order-0 Movable fragments) fails and DMA32 is tried
    PageAllocator a = twoZones(false, true);
    Zone normal = a.zone(ZoneType.NORMAL);
    int pfn = a.allocPages(0, 0, Gfp.GFP_KERNEL);
    assertEquals(4096, pfn, "DMA32's first order-10 block, claimed whole");
    assertEquals(UNMOVABLE, a.memMap().getPfnblockMigratetype(4096));
    assertEquals(2048, normal.freePages());
    assertEquals(0, normal.extfragEvents());
    for (int pb = 8192; pb < 12288; pb += 512) {
      assertEquals(MOVABLE, a.memMap().getPfnblockMigratetype(pb), "Normal pageblock " + pb);
    }
    InvariantChecker.check(a);
  }

  @Test
  void shouldRetryWithoutNofragmentOnlyAfterEveryZoneFailed() {
    // get_page_from_freelist(): if (no_fallback) { alloc_flags &= ~ALLOC_NOFRAGMENT; goto retry; }
    // With both zones fragmented the second pass starts again at Normal and claims there: the
    // head of Normal's order-0 Movable list is 12286 (freed last), its pageblock [11776, 12288)
    // has 256 free pages, which are moved to the Unmovable list in pfn order
    PageAllocator a = twoZones(true, true);
    int pfn = a.allocPages(0, 0, Gfp.GFP_KERNEL);
    assertEquals(11776, pfn);
    assertEquals(UNMOVABLE, a.memMap().getPfnblockMigratetype(11776));
    assertEquals(1, a.zone(ZoneType.NORMAL).extfragEvents());
    assertEquals(0, a.zone(ZoneType.DMA32).extfragEvents());
    assertEquals(2048, a.zone(ZoneType.DMA32).freePages());
    InvariantChecker.check(a);
  }

  @Test
  void shouldNotAvoidFragmentationWhenThePreferredZoneIsDma32() {
    // alloc_flags_nofragment(): only ZONE_NORMAL gets ALLOC_NOFRAGMENT; a GFP_DMA32 allocation
    // claims a half-free pageblock of its fragmented preferred zone straight away: the head of
    // the order-0 Movable list is 8190 (freed last), its pageblock [7680, 8192) is claimed
    PageAllocator a = twoZones(true, false);
    int pfn = a.allocPages(0, 0, Gfp.GFP_KERNEL | Gfp.__GFP_DMA32);
    assertEquals(7680, pfn);
    assertEquals(UNMOVABLE, a.memMap().getPfnblockMigratetype(7680));
    assertEquals(1, a.zone(ZoneType.DMA32).extfragFragmenting());
    InvariantChecker.check(a);
  }

  // ---------------------------------------------------------------- watermarks

  @ParameterizedTest(name = "gfp 0x{0} stops at {1} free pages")
  @CsvSource({
    // min 1024 (min_free_kbytes 4096 on one zone), low 1280, high 1536
    "cc0, 1024", // GFP_KERNEL: ALLOC_WMARK_MIN in the slow path
    "c8a, 1024", // GFP_HIGHUSER_MOVABLE
    "900, 1024", // GFP_NOWAIT: ALLOC_NON_BLOCK without __GFP_HIGH does not lower min
    "ce0, 512", // GFP_KERNEL | __GFP_HIGH: ALLOC_MIN_RESERVE, min -= min / 2
    "820, 384" // GFP_ATOMIC: ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK, then min -= min / 4
  })
  void shouldFailOrderZeroAllocationsAtTheMinWatermarkLessTheReservesTheGfpMayUse(String gfpHex,
      long floor) {
    // __zone_watermark_ok(): fail if free_pages <= min + lowmem_reserve; gfp_to_alloc_flags()
    // decides the ALLOC_* reserves of the slow path
    int gfp = Integer.parseInt(gfpHex, 16);
    PageAllocator a = MmTestSupport.dma32Only(8192, b -> b.pcp(false).minFreeKbytes(4096));
    Zone z = MmTestSupport.dma32(a);
    assertEquals(1024, z.watermark(Zone.WMARK_MIN));
    assertEquals(1280, z.watermark(Zone.WMARK_LOW));
    assertEquals(1536, z.watermark(Zone.WMARK_HIGH));
    int n = allocUntilFailure(a, 0, gfp, null);
    assertEquals(8192 - floor, n);
    assertEquals(floor, z.freePages());
    assertEquals(1, a.allocFailures());
    assertEquals(-1, a.allocPages(0, 0, gfp), "still failing");
    assertEquals(floor, z.freePages());
    InvariantChecker.check(a);
  }

  @Test
  void shouldMarkTheZoneBelowHighOnceTheHighWatermarkFails() {
    // get_page_from_freelist(): zone_watermark_fast(high) fails -> set_bit(ZONE_BELOW_HIGH)
    PageAllocator a = MmTestSupport.dma32Only(8192, b -> b.pcp(false).minFreeKbytes(4096));
    Zone z = MmTestSupport.dma32(a);
    for (int i = 0; i < 8192 - 1537; i++) {
      a.allocPages(0, 0, Gfp.GFP_HIGHUSER_MOVABLE);
    }
    assertFalse(z.belowHigh, "1537 free > high 1536");
    a.allocPages(0, 0, Gfp.GFP_HIGHUSER_MOVABLE);
    a.allocPages(0, 0, Gfp.GFP_HIGHUSER_MOVABLE);
    assertTrue(z.belowHigh);
    InvariantChecker.check(a);
  }

  @ParameterizedTest(name = "gfp 0x{0} stops at {1} with a boost of 2048")
  @CsvSource({
    "cc0, 3072", // GFP_KERNEL: min 1024 + boost 2048
    "ce0, 512", // GFP_KERNEL | __GFP_HIGH: (1024 + 2048) / 2 = 1536, then the boost is ignored
    "820, 384" // GFP_ATOMIC: likewise, 1024 - 512 - 128
  })
  void shouldIgnoreTheBoostForHighPriorityOrderZeroAllocationsAtTheMinWatermark(String gfpHex,
      long floor) {
    // wmark_pages() = _watermark[] + watermark_boost; zone_watermark_fast(): for order 0 with
    // ALLOC_MIN_RESERVE at WMARK_MIN and a boost, retry __zone_watermark_ok() against
    // _watermark[WMARK_MIN] alone
    PageAllocator a = MmTestSupport.dma32Only(8192, b -> b.pcp(false).minFreeKbytes(4096));
    Zone z = MmTestSupport.dma32(a);
    z.lock.lock();
    try {
      z.watermarkBoost = 2048;
    } finally {
      z.lock.unlock();
    }
    allocUntilFailure(a, 0, Integer.parseInt(gfpHex, 16), null);
    assertEquals(floor, z.freePages());
    InvariantChecker.check(a);
  }

  @Test
  void shouldKeepMovableOnlyZonesForMovableHighuserAllocations() {
    // gfp_zone(): ZONE_MOVABLE needs __GFP_HIGHMEM | __GFP_MOVABLE; zonelists run from the
    // highest allowed zone down. 64 MiB + movablecore=16M: Movable is [12288, 16384).
    PageAllocator a = new PageAllocator(
        MmConfig.builder().memory(64L << 20).movable(16L << 20).pcp(false).build());
    assertEquals(12288, a.allocPages(0, 4, Gfp.GFP_HIGHUSER_MOVABLE));
    assertEquals(12800, a.allocPages(0, 9, Gfp.GFP_TRANSHUGE_LIGHT));
    int kernel = a.allocPages(0, 4, Gfp.GFP_KERNEL);
    int highuser = a.allocPages(0, 4, Gfp.GFP_HIGHUSER);
    int movableLow = a.allocPages(0, 4, Gfp.GFP_KERNEL | Gfp.__GFP_MOVABLE);
    for (int pfn : new int[] {kernel, highuser, movableLow}) {
      assertEquals(ZoneType.DMA32, a.zoneOf(pfn).type(), "pfn " + pfn);
    }
    assertEquals(16 + 512, a.event(VmEvent.PGALLOC_MOVABLE));
    InvariantChecker.check(a);
  }

  @Test
  void shouldPreferCmaForMovableAllocationsWhenMoreThanHalfTheFreeMemoryIsCma() {
    // __rmqueue(): ALLOC_CMA and NR_FREE_CMA_PAGES > NR_FREE_PAGES / 2 -> __rmqueue_cma_fallback()
    // first. Three of the four order-10 blocks are CMA (each freed back to the list head).
    PageAllocator a = bare(4096);
    Zone z = MmTestSupport.dma32(a);
    for (int i = 0; i < 3; i++) {
      MmTestSupport.makeMaxBlockOfType(z, MigrateType.CMA);
    }
    assertEquals(List.of(6144, 5120, 4096), freeList(z, 10, MigrateType.CMA));
    assertEquals(3072, z.freeCmaPages());
    assertEquals(6144, a.allocPages(0, 4, Gfp.GFP_HIGHUSER_MOVABLE));
    InvariantChecker.check(a);
  }

  @Test
  void shouldUseTheMovableListsFirstUntilCmaIsMoreThanHalfTheFreeMemory() {
    // __rmqueue(): RMQUEUE_NORMAL first while NR_FREE_CMA_PAGES <= NR_FREE_PAGES / 2. One CMA
    // block (1024) and 3072 Movable pages: order-4 allocations stay on the Movable lists until
    // 1024 > (1024 + movable) / 2, i.e. after 129 of them (movable 1008 left)
    PageAllocator a = bare(4096);
    Zone z = MmTestSupport.dma32(a);
    assertEquals(4096, MmTestSupport.makeMaxBlockOfType(z, MigrateType.CMA));
    for (int i = 0; i < 129; i++) {
      int pfn = a.allocPages(0, 4, Gfp.GFP_HIGHUSER_MOVABLE);
      assertEquals(5120 + 16 * i, pfn, "allocation " + i);
    }
    assertEquals(1024, z.freeCmaPages());
    assertEquals(4096, a.allocPages(0, 4, Gfp.GFP_HIGHUSER_MOVABLE), "now from CMA");
    InvariantChecker.check(a);
  }

  @Test
  void shouldNeverGiveCmaPagesToAllocationsThatAreNotMovable() {
    // gfp_to_alloc_flags_cma(): ALLOC_CMA only for MIGRATE_MOVABLE; without it NR_FREE_CMA_PAGES
    // is unusable in __zone_watermark_ok() and the CMA lists are never a fallback
    PageAllocator a = bare(4096);
    Zone z = MmTestSupport.dma32(a);
    for (int i = 0; i < 3; i++) {
      MmTestSupport.makeMaxBlockOfType(z, MigrateType.CMA);
    }
    assertEquals(1024, allocUntilFailure(a, 0, Gfp.GFP_KERNEL, null));
    assertEquals(3072, z.freeCmaPages());
    assertEquals(0, allocUntilFailure(a, 0, Gfp.GFP_ATOMIC | Gfp.__GFP_RECLAIMABLE, null),
        "nor atomic reclaimable ones");
    InvariantChecker.check(a);
  }

  @Test
  void shouldKeepLowmemReserveOfDmaFromAllocationsThatCouldUseHigherZones() {
    // __zone_watermark_ok(): free_pages <= min + z->lowmem_reserve[highest_zoneidx] fails.
    // DMA [1, 4096) + DMA32 [4096, 20480), min_free_kbytes 1024 (pages_min 256, lowmem 20479):
    //   DMA min = 256 * 4095 / 20479 = 51, DMA32 min = 256 * 16384 / 20479 = 204
    //   DMA lowmem_reserve[DMA32 and up] = 16384 / 256 = 64
    // A GFP_KERNEL allocation (highest zone Normal) may take DMA down to 51 + 64; GFP_DMA to 51.
    // (No watermark boost: its claims of DMA's small blocks would raise the marks by 512.)
    PageAllocator a = new PageAllocator(MmConfig.builder()
        .zone(new ZoneSpec(ZoneType.DMA, 1, 4095, 0))
        .zone(new ZoneSpec(ZoneType.DMA32, 4096, 16384, 0))
        .pcp(false).minFreeKbytes(1024).watermarkBoostFactor(0).build());
    Zone dma = a.zone(ZoneType.DMA);
    Zone dma32 = a.zone(ZoneType.DMA32);
    assertEquals(51, dma.watermark(Zone.WMARK_MIN));
    assertEquals(204, dma32.watermark(Zone.WMARK_MIN));
    assertEquals(64, dma.lowmemReserve(ZoneType.NORMAL.ordinal()));
    allocUntilFailure(a, 0, Gfp.GFP_KERNEL, null);
    assertEquals(204, dma32.freePages());
    assertEquals(51 + 64, dma.freePages());
    allocUntilFailure(a, 0, Gfp.GFP_DMA | Gfp.GFP_KERNEL, null);
    assertEquals(51, dma.freePages());
    assertEquals(204, dma32.freePages(), "GFP_DMA never touches DMA32");
    InvariantChecker.check(a);
  }

  // ---------------------------------------------------------------- HIGHATOMIC reserve

  /**
   * One DMA32 zone of 65536 pages (1% = 655 >= a pageblock; at most ALIGN(655, 512) = 1024 pages
   * reserved), pcp off, min_free_kbytes 220000: min 55000, low 68750 > managed, so every
   * allocation takes the slow path; GFP_ATOMIC may go down to 55000 - 27500 - 6875 = 20625.
   */
  private static PageAllocator atomicZone() {
    return MmTestSupport.dma32Only(65536, b -> b.pcp(false).minFreeKbytes(220000));
  }

  private static int highatomicPageblocks(PageAllocator a, Zone z) {
    int n = 0;
    for (int pb = z.startPfn(); pb < z.endPfn(); pb += 512) {
      if (a.memMap().getPfnblockMigratetype(pb) == HIGHATOMIC) {
        n++;
      }
    }
    return n;
  }

  @Test
  void shouldReserveThePageblockOfAHighOrderAtomicAllocationFromTheSlowPath() {
    // gfp_to_alloc_flags(): no __GFP_DIRECT_RECLAIM and order > 0 -> ALLOC_HIGHATOMIC;
    // get_page_from_freelist() -> reserve_highatomic_pageblock(): move_freepages_block() to
    // MIGRATE_HIGHATOMIC, nr_reserved_highatomic += pageblock_nr_pages
    PageAllocator a = atomicZone();
    Zone z = MmTestSupport.dma32(a);
    int pfn = a.allocPages(0, 1, Gfp.GFP_ATOMIC);
    assertEquals(4096, pfn);
    assertEquals(HIGHATOMIC, a.memMap().getPfnblockMigratetype(4096));
    assertEquals(UNMOVABLE, a.memMap().getPfnblockMigratetype(4608), "only the one pageblock");
    assertEquals(512, z.reservedHighatomic());
    assertEquals(510, z.freeHighatomic(), "2 + 4 + ... + 256: the rest of the pageblock");
    InvariantChecker.check(a);
  }

  @Test
  void shouldRetypeWholePageblocksForAnAtomicAllocationOfPageblockOrder() {
    // reserve_highatomic_pageblock(): order >= pageblock_order -> change_pageblock_range() of the
    // allocated block, nr_reserved_highatomic += 1 << order; freed, it lands on the HIGHATOMIC list
    PageAllocator a = atomicZone();
    Zone z = MmTestSupport.dma32(a);
    assertEquals(4096, a.allocPages(0, 9, Gfp.GFP_ATOMIC));
    assertEquals(HIGHATOMIC, a.memMap().getPfnblockMigratetype(4096));
    assertEquals(UNMOVABLE, a.memMap().getPfnblockMigratetype(4608));
    assertEquals(512, z.reservedHighatomic());
    assertEquals(0, z.freeHighatomic(), "the whole pageblock is in use");
    a.freePages(0, 4096, 9);
    assertEquals(List.of(4096), freeList(z, 9, HIGHATOMIC));
    assertEquals(512, z.freeHighatomic());
    InvariantChecker.check(a);
  }

  @ParameterizedTest(name = "order {1} gfp 0x{0}")
  @CsvSource({"cc0, 1", "820, 0"})
  void shouldNotReserveForBlockingOrOrderZeroAllocations(String gfpHex, int order) {
    // ALLOC_HIGHATOMIC needs !__GFP_DIRECT_RECLAIM and order > 0
    PageAllocator a = atomicZone();
    assertTrue(a.allocPages(0, order, Integer.parseInt(gfpHex, 16)) >= 0);
    assertEquals(0, MmTestSupport.dma32(a).reservedHighatomic());
    assertEquals(0, highatomicPageblocks(a, MmTestSupport.dma32(a)));
    InvariantChecker.check(a);
  }

  @Test
  void shouldNotReserveWhenOnePercentOfTheZoneIsLessThanAPageblock() {
    // reserve_highatomic_pageblock(): if (zone_managed_pages(zone) / 100 < pageblock_nr_pages)
    // return. 32768 / 100 = 327. (min 28000, low 35000 > managed: slow path; atomic floor 10500)
    PageAllocator a = MmTestSupport.dma32Only(32768, b -> b.pcp(false).minFreeKbytes(112000));
    Zone z = MmTestSupport.dma32(a);
    assertTrue(a.allocPages(0, 1, Gfp.GFP_ATOMIC) >= 0);
    assertEquals(0, z.reservedHighatomic());
    assertEquals(0, highatomicPageblocks(a, z));
    InvariantChecker.check(a);
  }

  @Test
  void shouldStopReservingAtAboutOnePercentOfTheZone() {
    // max_managed = ALIGN(managed / 100, pageblock_nr_pages) = 1024: two pageblocks
    PageAllocator a = atomicZone();
    Zone z = MmTestSupport.dma32(a);
    assertEquals(4096, a.allocPages(0, 1, Gfp.GFP_ATOMIC));
    assertEquals(4608, a.allocPages(0, 1, Gfp.GFP_ATOMIC), "the claimed block's other half");
    assertEquals(5120, a.allocPages(0, 1, Gfp.GFP_ATOMIC));
    assertEquals(1024, z.reservedHighatomic());
    assertEquals(HIGHATOMIC, a.memMap().getPfnblockMigratetype(4096));
    assertEquals(HIGHATOMIC, a.memMap().getPfnblockMigratetype(4608));
    assertEquals(UNMOVABLE, a.memMap().getPfnblockMigratetype(5120));
    assertEquals(2, highatomicPageblocks(a, z));
    InvariantChecker.check(a);
  }

  @Test
  void shouldServeHighOrderAtomicAllocationsFromTheHighatomicListFirst() {
    // rmqueue_buddy(): ALLOC_HIGHATOMIC -> __rmqueue_smallest(zone, order, MIGRATE_HIGHATOMIC)
    // before __rmqueue(); an ordinary allocation of the same order uses its own type's lists
    PageAllocator a = atomicZone();
    a.allocPages(0, 1, Gfp.GFP_ATOMIC); // reserves pageblock 4096, which keeps 4112 (order 4)
    assertEquals(4112, a.allocPages(0, 4, Gfp.GFP_ATOMIC));
    assertEquals(4608, a.allocPages(0, 4, Gfp.GFP_KERNEL), "from the Unmovable order-9 block");
    assertEquals(512, MmTestSupport.dma32(a).reservedHighatomic(),
        "a HIGHATOMIC pageblock is not mergeable, so it is not reserved twice");
    InvariantChecker.check(a);
  }

  @Test
  void shouldNotCountFreeHighatomicPagesForAllocationsWithoutReserveAccess() {
    // __zone_watermark_unusable_free(): nr_free_highatomic is unusable unless ALLOC_RESERVES
    PageAllocator a = atomicZone();
    Zone z = MmTestSupport.dma32(a);
    a.allocPages(0, 1, Gfp.GFP_ATOMIC);
    long free = z.freePages();
    long usable = free - 510;
    assertTrue(z.watermarkOk(0, usable - 1, 0, 0));
    assertFalse(z.watermarkOk(0, usable, 0, 0));
    assertTrue(z.watermarkOk(0, usable, 0, AllocFlags.ALLOC_NON_BLOCK));
    assertFalse(z.watermarkOk(0, free, 0, AllocFlags.ALLOC_NON_BLOCK));
    // so a GFP_KERNEL allocation that may not retry stops 510 pages early and never gets the
    // reserve's pages (a retrying one would exhaust the reserve in should_reclaim_retry(): see
    // shouldReleaseEvenTheLastHighatomicPageblockBeforeFailingABlockingAllocation)
    allocUntilFailure(a, 0, Gfp.GFP_KERNEL | Gfp.__GFP_NORETRY, null);
    assertEquals(55000 + 510, z.freePages());
    assertEquals(510, z.freeHighatomic());
    InvariantChecker.check(a);
  }

  @Test
  void shouldReleaseAHighatomicPageblockWhenTheSlowPathFailsAndRetry() {
    // unreserve_highatomic_pageblock(): the first HIGHATOMIC free block found from order 0 up
    // gives its pageblock back to the failing allocation's migratetype (move_freepages_block()),
    // nr_reserved_highatomic -= pageblock_nr_pages, and the allocation is retried. Two pageblocks
    // are reserved (4096 and 4608, each with 510 free pages; 4098 heads the order-1 list).
    PageAllocator a = atomicZone();
    Zone z = MmTestSupport.dma32(a);
    a.allocPages(0, 1, Gfp.GFP_ATOMIC);
    a.allocPages(0, 1, Gfp.GFP_ATOMIC);
    assertEquals(1024, z.reservedHighatomic());
    // GFP_KERNEL fails the min watermark at free - 1020 <= 55000, i.e. when free is 56020
    for (long free = z.freePages(); free > 56020; free--) {
      assertTrue(a.allocPages(0, 0, Gfp.GFP_KERNEL) >= 0);
    }
    assertEquals(56020, z.freePages());
    assertTrue(a.allocPages(0, 0, Gfp.GFP_KERNEL) >= 0, "succeeds after the release");
    assertEquals(512, z.reservedHighatomic());
    assertEquals(UNMOVABLE, a.memMap().getPfnblockMigratetype(4096));
    assertEquals(HIGHATOMIC, a.memMap().getPfnblockMigratetype(4608));
    assertEquals(510, z.freeHighatomic());
    assertEquals(0, a.allocFailures());
    InvariantChecker.check(a);
  }

  @Test
  void shouldReleaseEvenTheLastHighatomicPageblockBeforeFailingABlockingAllocation() {
    // should_reclaim_retry(): no zone meets the min watermark even counting reclaimable pages
    // (the model has none) -> "Before OOM, exhaust highatomic_reserve":
    // unreserve_highatomic_pageblock(ac, true); retry. Only when nothing is left does GFP_KERNEL
    // fail (the OOM killer cannot help a model without tasks).
    PageAllocator a = atomicZone();
    Zone z = MmTestSupport.dma32(a);
    a.allocPages(0, 1, Gfp.GFP_ATOMIC);
    a.allocPages(0, 1, Gfp.GFP_ATOMIC);
    allocUntilFailure(a, 0, Gfp.GFP_KERNEL, null);
    assertEquals(0, z.reservedHighatomic());
    assertEquals(0, highatomicPageblocks(a, z));
    assertEquals(55000, z.freePages());
    InvariantChecker.check(a);
  }

  @Test
  void shouldKeepTheHighatomicReserveWhenAnAllocationThatCannotReclaimFails() {
    // __alloc_pages_slowpath(): if (!can_direct_reclaim) goto nopage; -- GFP_ATOMIC fails without
    // touching the reserve (its watermark already counts the reserve's free pages as usable)
    PageAllocator a = atomicZone();
    Zone z = MmTestSupport.dma32(a);
    a.allocPages(0, 1, Gfp.GFP_ATOMIC);
    a.allocPages(0, 1, Gfp.GFP_ATOMIC);
    allocUntilFailure(a, 0, Gfp.GFP_ATOMIC, null);
    assertEquals(20625, z.freePages());
    assertEquals(1024, z.reservedHighatomic());
    assertEquals(2, highatomicPageblocks(a, z));
    InvariantChecker.check(a);
  }

  // ---------------------------------------------------------------- gfp decoding

  @Test
  void shouldDecodeTheHighestZoneOfAGfpLikeGfpZone() {
    // gfp_zone() via GFP_ZONE_TABLE on x86-64 (no HIGHMEM: OPT_ZONE_HIGHMEM = ZONE_NORMAL)
    assertEquals(ZoneType.NORMAL, Gfp.zone(0));
    assertEquals(ZoneType.NORMAL, Gfp.zone(Gfp.GFP_KERNEL));
    assertEquals(ZoneType.DMA, Gfp.zone(Gfp.GFP_DMA));
    assertEquals(ZoneType.DMA32, Gfp.zone(Gfp.GFP_DMA32));
    assertEquals(ZoneType.NORMAL, Gfp.zone(Gfp.__GFP_HIGHMEM));
    assertEquals(ZoneType.NORMAL, Gfp.zone(Gfp.__GFP_MOVABLE), "0x8 => NORMAL (MOVABLE+0)");
    assertEquals(ZoneType.MOVABLE, Gfp.zone(Gfp.GFP_HIGHUSER_MOVABLE));
    assertEquals(ZoneType.MOVABLE, Gfp.zone(Gfp.GFP_TRANSHUGE_LIGHT));
    assertEquals(ZoneType.DMA, Gfp.zone(Gfp.__GFP_MOVABLE | Gfp.__GFP_DMA));
    assertEquals(ZoneType.DMA32, Gfp.zone(Gfp.__GFP_MOVABLE | Gfp.__GFP_DMA32));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Gfp.zone(Gfp.__GFP_DMA | Gfp.__GFP_DMA32));
    assertEquals("gfp has both __GFP_DMA and __GFP_DMA32", e.getMessage());
  }

  @Test
  void shouldDecodeTheMigratetypeOfAGfpLikeGfpMigratetype() {
    // gfp_migratetype(): (gfp & GFP_MOVABLE_MASK) >> GFP_MOVABLE_SHIFT; both bits is a bug
    assertEquals(UNMOVABLE, Gfp.migratetype(Gfp.GFP_KERNEL));
    assertEquals(UNMOVABLE, Gfp.migratetype(Gfp.GFP_ATOMIC));
    assertEquals(MOVABLE, Gfp.migratetype(Gfp.GFP_HIGHUSER_MOVABLE));
    assertEquals(MOVABLE, Gfp.migratetype(Gfp.GFP_TRANSHUGE_LIGHT));
    assertEquals(RECLAIMABLE, Gfp.migratetype(Gfp.GFP_KERNEL_RECLAIMABLE));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Gfp.migratetype(Gfp.__GFP_MOVABLE | Gfp.__GFP_RECLAIMABLE));
    assertEquals("gfp has both __GFP_MOVABLE and __GFP_RECLAIMABLE", e.getMessage());
  }

  @Test
  void shouldShareTheBitsTheKernelAssumesEqualBetweenGfpAndAllocFlags() {
    // gfp_to_alloc_flags(): BUILD_BUG_ON(__GFP_HIGH != ALLOC_MIN_RESERVE) and
    // BUILD_BUG_ON(__GFP_KSWAPD_RECLAIM != ALLOC_KSWAPD)
    assertEquals(AllocFlags.ALLOC_MIN_RESERVE, Gfp.__GFP_HIGH);
    assertEquals(AllocFlags.ALLOC_KSWAPD, Gfp.__GFP_KSWAPD_RECLAIM);
    assertEquals(0, Gfp.GFP_TRANSHUGE_LIGHT & Gfp.__GFP_RECLAIM, "THP light never reclaims");
    assertEquals(Gfp.__GFP_HIGH | Gfp.__GFP_KSWAPD_RECLAIM, Gfp.GFP_ATOMIC);
  }

  @Test
  void shouldAllocateEverythingAsUnmovableWhenGroupingByMobilityIsDisabled() {
    // gfp_migratetype(): if (unlikely(page_group_by_mobility_disabled)) return MIGRATE_UNMOVABLE.
    // An 8 MiB guest (2047 pages < 6 pageblocks) has it disabled: a GFP_HIGHUSER_MOVABLE page is
    // allocated as UNMOVABLE, which here claims the Movable order-10 block at 1024 whole (like
    // GFP_KERNEL would) instead of taking the order-0 Movable page at pfn 1.
    PageAllocator a = new PageAllocator(MmConfig.builder().memory(8L << 20).pcp(false).build());
    assertTrue(a.mobilityDisabled());
    int pfn = a.allocPages(0, 0, Gfp.GFP_HIGHUSER_MOVABLE);
    assertEquals(1024, pfn);
    assertAllocated(a.memMap(), pfn, 0, UNMOVABLE);
    assertEquals(UNMOVABLE, a.memMap().getPfnblockMigratetype(1024));
    InvariantChecker.check(a);
  }

  // ---------------------------------------------------------------- bad arguments

  private static void assertRejected(PageAllocator a, String message,
      org.junit.jupiter.api.function.Executable call) {
    long free = a.freePages();
    long failures = a.allocFailures();
    int pcp0 = MmTestSupport.dma32(a).pcp(0).count();
    int pcp1 = MmTestSupport.dma32(a).pcp(1).count();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertEquals(message, e.getMessage());
    assertEquals(free, a.freePages(), "free pages unchanged after: " + message);
    assertEquals(failures, a.allocFailures(), "not counted as an allocation failure");
    assertEquals(pcp0, MmTestSupport.dma32(a).pcp(0).count());
    assertEquals(pcp1, MmTestSupport.dma32(a).pcp(1).count());
    InvariantChecker.check(a);
  }

  @Test
  void shouldRejectBadArgumentsWithExactMessagesAndChangeNothing() {
    // __alloc_frozen_pages_noprof(): WARN_ON_ONCE(order > MAX_PAGE_ORDER) -> NULL; gfp_zone()
    // VM_BUG_ON(GFP_ZONE_BAD), gfp_migratetype() VM_WARN_ON; free_pages_prepare() -> bad_page()
    // for a page that is not an allocated head. The model throws before touching any state.
    PageAllocator a = MmTestSupport.dma32Only(4096, b -> b.nrCpus(2).minFreeKbytes(0));
    int p0 = a.allocPages(0, 0, Gfp.GFP_KERNEL);
    int p2 = a.allocPages(1, 2, Gfp.GFP_KERNEL);
    int freed = a.allocPages(0, 0, Gfp.GFP_KERNEL);
    a.freePages(0, freed, 0); // now on cpu 0's pcp list
    int end = a.memMap().nrPages();
    assertRejected(a, "order must be in [0, 11), got -1", () -> a.allocPages(0, -1, 0));
    assertRejected(a, "order must be in [0, 11), got 11", () -> a.allocPages(0, 11, 0));
    assertRejected(a, "cpu must be in [0, 2), got 2", () -> a.allocPages(2, 0, 0));
    assertRejected(a, "cpu must be in [0, 2), got -1", () -> a.allocPages(-1, 0, 0));
    assertRejected(a, "gfp has both __GFP_DMA and __GFP_DMA32",
        () -> a.allocPages(0, 0, Gfp.__GFP_DMA | Gfp.__GFP_DMA32));
    assertRejected(a, "gfp has both __GFP_MOVABLE and __GFP_RECLAIMABLE",
        () -> a.allocPages(0, 0, Gfp.__GFP_MOVABLE | Gfp.__GFP_RECLAIMABLE));
    assertRejected(a, "cpu must be in [0, 2), got 5", () -> a.freePages(5, p0, 0));
    assertRejected(a, "pfn " + p0 + " is not the head of an allocated block of order 1",
        () -> a.freePages(0, p0, 1));
    assertRejected(a, "pfn " + p2 + " is not the head of an allocated block of order 1",
        () -> a.freePages(0, p2, 1));
    assertRejected(a, "pfn " + (p2 + 1) + " is not the head of an allocated block of order 0",
        () -> a.freePages(0, p2 + 1, 0));
    assertRejected(a, "pfn " + freed + " is not the head of an allocated block of order 0",
        () -> a.freePages(0, freed, 0));
    int freeBuddy = MmTestSupport.dma32(a).freeListFirst(10, MOVABLE);
    assertRejected(a, "pfn " + freeBuddy + " is not the head of an allocated block of order 10",
        () -> a.freePages(0, freeBuddy, 10));
    assertRejected(a, "pfn 0 is not the head of an allocated block of order 0",
        () -> a.freePages(0, 0, 0));
    assertRejected(a, "pfn -1 is not the head of an allocated block of order 0",
        () -> a.freePages(0, -1, 0));
    assertRejected(a, "pfn " + end + " is not the head of an allocated block of order 0",
        () -> a.freePages(0, end, 0));
    a.freePages(0, p0, 0);
    a.freePages(1, p2, 2);
    a.drainAllPages(null);
    assertEquals(4096, a.freePages());
    InvariantChecker.check(a);
  }

  @Test
  void shouldFailWithoutThrowingWhenNoZoneCanServeTheGfp() {
    // an empty zonelist for gfp_zone(): no DMA zone in this guest
    PageAllocator a = bare(4096);
    assertEquals(-1, a.allocPages(0, 0, Gfp.GFP_DMA | Gfp.GFP_KERNEL));
    assertEquals(1, a.allocFailures());
    assertEquals(4096, a.freePages());
    InvariantChecker.check(a);
  }

  @Test
  void shouldCountTheRightZonesPgallocEvent() {
    // __count_zid_vm_events(PGALLOC, page_zonenum(page), 1 << order)
    PageAllocator a = new PageAllocator(MmConfig.forMemory(64L << 20));
    List<Integer> pfns = new ArrayList<>();
    pfns.add(a.allocPages(0, 3, Gfp.GFP_DMA));
    pfns.add(a.allocPages(0, 2, Gfp.GFP_KERNEL));
    assertEquals(8, a.event(VmEvent.PGALLOC_DMA));
    assertEquals(4, a.event(VmEvent.PGALLOC_DMA32));
    a.freePages(0, pfns.get(0), 3);
    a.freePages(0, pfns.get(1), 2);
    assertEquals(12, a.event(VmEvent.PGFREE));
    InvariantChecker.check(a);
  }
}
