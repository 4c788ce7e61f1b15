package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MigrateType.MOVABLE;
import static io.hintlab.guest.mm.MigrateType.UNMOVABLE;
import static io.hintlab.guest.mm.MmTestSupport.pcpList;
import static io.hintlab.guest.mm.MmTestSupport.range;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Per-cpu page lists (mm/page_alloc.c, v6.7+): rmqueue_bulk() refills, LIFO frees,
 * free_pcppages_bulk() drains from the tail with the drain-time pageblock type,
 * pcp_allowed_order(), the boot pageset, isolated and HIGHATOMIC/CMA pageblocks,
 * drain_all_pages(), decay_pcp_high().
 *
 * <p>The fixture is one DMA32 zone [4096, 69632) of 65536 pages (batch 15) with min_free_kbytes
 * 4096: min 1024, low 1280 (= high_min on one cpu), high 1536, high_max 65536 / 8 = 8192.
 */
class PerCpuPagesTest {
  private static final int PAGES = 65536;
  /** order_to_pindex(MIGRATE_MOVABLE, 0). */
  private static final int MOVABLE_0 = 1;
  /** order_to_pindex(MIGRATE_UNMOVABLE, 0). */
  private static final int UNMOVABLE_0 = 0;
  /** order_to_pindex(MIGRATE_MOVABLE, HPAGE_PMD_ORDER): NR_LOWORDER_PCP_LISTS + 1. */
  private static final int MOVABLE_THP = 13;

  private static PageAllocator boot(UnaryOperator<MmConfig.Builder> tune) {
    return MmTestSupport.dma32Only(PAGES, b -> tune.apply(b.minFreeKbytes(4096)));
  }

  private static PageAllocator boot() {
    return boot(b -> b);
  }

  private static int movable(PageAllocator a, int cpu) {
    return a.allocPages(cpu, 0, Gfp.GFP_HIGHUSER_MOVABLE);
  }

  @Test
  void shouldRefillAnEmptyListWithABatchInPhysicalOrderAndHandOutItsHead() {
    // __rmqueue_pcplist(): list empty -> rmqueue_bulk(nr_pcp_alloc()) appends each block with
    // list_add_tail() in the order expand() hands them out; then list_first_entry()
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    PerCpuPages p = z.pcp(0);
    assertEquals(15, p.batch());
    assertEquals(4096, movable(a, 0));
    assertEquals(range(4097, 4111), pcpList(z, 0, MOVABLE_0));
    assertEquals(14, p.count());
    assertEquals(4097, movable(a, 0), "the head is next");
    assertEquals(13, p.count());
    InvariantChecker.check(a);
  }

  @Test
  void shouldKeepPcpPagesOutOfTheFreeCountAndOffTheBuddyLists() {
    // pages on pcp lists are not PageBuddy and not in NR_FREE_PAGES
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    MemMap mm = a.memMap();
    movable(a, 0);
    assertEquals(PAGES - 15, z.freePages());
    for (int pfn = 4097; pfn < 4111; pfn++) {
      assertEquals(MemMap.K_PCP, mm.kind(pfn), "pfn " + pfn);
      assertFalse(mm.isBuddy(pfn));
    }
    assertFalse(MmTestSupport.freeList(z, 0, MOVABLE).contains(4097));
    assertEquals(List.of(4111), MmTestSupport.freeList(z, 0, MOVABLE));
    InvariantChecker.check(a);
  }

  @Test
  void shouldDoubleTheRefillWhileAllocationsContinueWithoutFrees() {
    // nr_pcp_alloc(): order-0 batch = base_batch << alloc_factor, alloc_factor++ while it fits;
    // free_frozen_page_commit() halves alloc_factor
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    PerCpuPages p = z.pcp(0);
    for (int i = 0; i < 15; i++) {
      assertEquals(4096 + i, movable(a, 0));
    }
    assertEquals(0, p.count());
    assertEquals(4111, movable(a, 0));
    assertEquals(29, p.count(), "a refill of 30");
    assertEquals(2, p.allocFactor);
    a.freePages(0, 4096, 0);
    assertEquals(1, p.allocFactor);
    InvariantChecker.check(a);
  }

  @Test
  void shouldHandOutTheLastFreedPageFirst() {
    // free_frozen_page_commit(): list_add() to the head; allocation takes the head (LIFO)
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    assertEquals(4096, movable(a, 0));
    assertEquals(4097, movable(a, 0));
    long free = z.freePages();
    a.freePages(0, 4096, 0);
    assertEquals(free, z.freePages(), "a pcp free is not a buddy free");
    assertEquals(MemMap.K_PCP, a.memMap().kind(4096));
    assertEquals(4096, pcpList(z, 0, MOVABLE_0).get(0));
    assertEquals(14, z.pcp(0).count());
    assertEquals(4096, movable(a, 0));
    assertEquals(4098, movable(a, 0));
    InvariantChecker.check(a);
  }

  @Test
  void shouldDrainTheOldestPagesWhenAFreeReachesHigh() {
    // free_frozen_page_commit(): count >= nr_pcp_high() -> free_pcppages_bulk(nr_pcp_free()),
    // which takes list_last_entry() (the tail, the oldest). percpu_pagelist_high_fraction 1024
    // fixes high at 65536 / 1024 = 64 (high_min = high_max: no auto-tuning). The 64th free has
    // free_count 64, so nr_pcp_free() = clamp(64, batch 15, high - batch 49) = 49.
    PageAllocator a = boot(b -> b.percpuPagelistHighFraction(1024));
    Zone z = MmTestSupport.dma32(a);
    PerCpuPages p = z.pcp(0);
    assertEquals(64, p.highMin());
    assertEquals(64, p.highMax());
    List<Integer> pages = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      pages.add(movable(a, 0));
    }
    a.drainAllPages(null);
    assertEquals(0, p.count());
    for (int i = 0; i < 63; i++) {
      a.freePages(0, pages.get(i), 0);
    }
    assertEquals(63, p.count());
    a.freePages(0, pages.get(63), 0);
    assertEquals(15, p.count());
    List<Integer> kept = new ArrayList<>(pages.subList(49, 64));
    Collections.reverse(kept);
    assertEquals(kept, pcpList(z, 0, MOVABLE_0));
    for (int i = 0; i < 49; i++) {
      assertNotEquals(MemMap.K_PCP, a.memMap().kind(pages.get(i)), "page " + i);
    }
    InvariantChecker.check(a);
  }

  @Test
  void shouldShrinkHighOnFreesAndStopGrowingItOnRefillsWhileTheZoneIsBelowHigh() {
    // nr_pcp_high(): ZONE_BELOW_HIGH -> pcp->high = max(high - max(free_count, batch), high_min);
    // nr_pcp_alloc(): high grows by the batch only while !ZONE_BELOW_HIGH
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    PerCpuPages p = z.pcp(0);
    movable(a, 0);
    assertEquals(1280 + 15, p.high(), "the refill grew high by a batch");
    z.belowHigh = true;
    a.freePages(0, 4096, 0);
    assertEquals(1280, p.high(), "1295 - max(1, 15), not below high_min");
    a.drainAllPages(null);
    movable(a, 0);
    assertEquals(1280, p.high(), "no growth while below high");
    InvariantChecker.check(a);
  }

  @Test
  void shouldClearBelowHighAfterADrainLeavesTheZoneAboveItsHighWatermark() {
    // free_frozen_page_commit(): after free_pcppages_bulk(), if ZONE_BELOW_HIGH and
    // zone_watermark_ok(zone, 0, high_wmark_pages(zone), ZONE_MOVABLE, 0): clear_bit()
    PageAllocator a = boot(b -> b.percpuPagelistHighFraction(1024));
    Zone z = MmTestSupport.dma32(a);
    List<Integer> pages = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      pages.add(movable(a, 0));
    }
    a.drainAllPages(null);
    z.belowHigh = true;
    for (int i = 0; i < 63; i++) {
      a.freePages(0, pages.get(i), 0);
    }
    assertTrue(z.belowHigh, "no drain yet");
    a.freePages(0, pages.get(63), 0);
    assertFalse(z.belowHigh);
    InvariantChecker.check(a);
  }

  @Test
  void shouldUseTheThpListsForPageblockOrderWhenThpIsOn() {
    // pcp_allowed_order(HPAGE_PMD_ORDER); order_to_pindex() = NR_LOWORDER_PCP_LISTS + movable;
    // nr_pcp_alloc(): batch > 1 -> max(batch >> order, 2) = 2 blocks
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    PerCpuPages p = z.pcp(0);
    assertEquals(4096, a.allocPages(0, 9, Gfp.GFP_TRANSHUGE_LIGHT));
    assertEquals(List.of(4608), pcpList(z, 0, MOVABLE_THP));
    assertEquals(512, p.count());
    a.freePages(0, 4096, 9);
    assertEquals(List.of(4096, 4608), pcpList(z, 0, MOVABLE_THP));
    assertEquals(1024, p.count());
    assertEquals(4096, a.allocPages(0, 9, Gfp.GFP_TRANSHUGE_LIGHT));
    assertEquals(List.of(), pcpList(z, 0, 12), "the unmovable THP list stays empty");
    InvariantChecker.check(a);
  }

  @Test
  void shouldSendPageblockOrderStraightToTheBuddyWhenThpIsOff() {
    // without CONFIG_TRANSPARENT_HUGEPAGE pcp_allowed_order() stops at PAGE_ALLOC_COSTLY_ORDER
    PageAllocator a = boot(b -> b.thp(false));
    Zone z = MmTestSupport.dma32(a);
    assertEquals(4096, a.allocPages(0, 9, Gfp.GFP_TRANSHUGE_LIGHT));
    assertEquals(0, z.pcp(0).count());
    assertEquals(PAGES - 512, z.freePages());
    a.freePages(0, 4096, 9);
    assertEquals(PAGES, z.freePages());
    InvariantChecker.check(a);
  }

  @ParameterizedTest(name = "order {0}")
  @ValueSource(ints = {4, 5, 6, 7, 8, 10})
  void shouldBypassThePcpListsForOrdersTheyDoNotHold(int order) {
    // pcp_allowed_order(): orders 0..3 and HPAGE_PMD_ORDER only; others use rmqueue_buddy() and
    // __free_pages_ok()
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    int pfn = a.allocPages(0, order, Gfp.GFP_HIGHUSER_MOVABLE);
    assertEquals(4096, pfn);
    assertEquals(0, z.pcp(0).count());
    assertEquals(PAGES - (1 << order), z.freePages());
    a.freePages(0, pfn, order);
    assertEquals(0, z.pcp(0).count());
    assertEquals(PAGES, z.freePages());
    InvariantChecker.check(a);
  }

  @Test
  void shouldRefillLowOrdersWithBatchShiftedByTheOrder() {
    // order_to_pindex(UNMOVABLE, 2) = 6; nr_pcp_alloc(): max(15 >> 2, 2) = 3 blocks of order 2
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    assertEquals(4096, a.allocPages(0, 2, Gfp.GFP_KERNEL));
    assertEquals(List.of(4100, 4104), pcpList(z, 0, 6));
    assertEquals(8, z.pcp(0).count());
    InvariantChecker.check(a);
  }

  @Test
  void shouldSendEveryFreeToTheBuddyAtOnceWithTheBootPageset() {
    // boot pageset (high 0, batch 1): nr_pcp_alloc() returns 1 and every free crosses high
    PageAllocator a = boot(b -> b.pcp(false));
    Zone z = MmTestSupport.dma32(a);
    assertEquals(4096, movable(a, 0));
    assertEquals(0, z.pcp(0).count());
    assertEquals(PAGES - 1, z.freePages());
    a.freePages(0, 4096, 0);
    assertEquals(0, z.pcp(0).count());
    assertEquals(PAGES, z.freePages());
    assertEquals(MemMap.K_BUDDY, a.memMap().kind(4096));
    InvariantChecker.check(a);
  }

  @Test
  void shouldEmptyEveryCpusListsWhenDrainingAll() {
    // drain_pages_zone() per cpu in chunks of batch << CONFIG_PCP_BATCH_SCALE_MAX until empty;
    // drain_all_pages(NULL) covers every cpu and zone, drain_local_pages() only one cpu
    PageAllocator a = boot(b -> b.nrCpus(3));
    Zone z = MmTestSupport.dma32(a);
    List<Integer> kept = new ArrayList<>();
    for (int cpu = 0; cpu < 3; cpu++) {
      for (int i = 0; i < 40; i++) {
        int pfn = movable(a, cpu);
        if (i % 2 == 0) {
          a.freePages((cpu + 1) % 3, pfn, 0); // a remote free lands on the freeing cpu's list
        } else {
          kept.add(pfn);
        }
      }
      assertTrue(z.pcp(cpu).count() > 0, "cpu " + cpu);
    }
    a.drainLocalPages(1);
    assertEquals(0, z.pcp(1).count());
    assertTrue(z.pcp(0).count() > 0 && z.pcp(2).count() > 0);
    a.drainAllPages(null);
    for (int cpu = 0; cpu < 3; cpu++) {
      assertEquals(0, z.pcp(cpu).count(), "cpu " + cpu);
    }
    assertEquals(PAGES - kept.size(), z.freePages());
    for (int pfn : kept) {
      a.freePages(2, pfn, 0);
    }
    a.drainAllPages(z);
    assertEquals(PAGES, z.freePages());
    InvariantChecker.check(a);
  }

  @Test
  void shouldFreeStraightToTheIsolateListWhenThePageblockIsIsolated() {
    // __free_frozen_pages(): is_migrate_isolate(migratetype) -> free_one_page(), not the pcp
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    MemMap mm = a.memMap();
    assertEquals(4096, movable(a, 0));
    PageIsolation iso = new PageIsolation(a);
    assertEquals(0, iso.setMigratetypeIsolate(z, 4096, PageIsolation.Mode.OTHER, 4096, 4608));
    long free = z.freePages();
    a.freePages(0, 4096, 0);
    assertEquals(14, z.pcp(0).count(), "not added to the pcp list");
    assertEquals(MemMap.K_BUDDY, mm.kind(4096));
    assertEquals(MigrateType.ISOLATE, mm.aux(4096));
    assertEquals(free, z.freePages(), "isolated free pages are not NR_FREE_PAGES");
    // the batch still on the pcp list goes to the Isolate list when drained (drain-time type)
    a.drainAllPages(null);
    assertEquals(MemMap.K_BUDDY, mm.kind(4096));
    assertEquals(9, mm.order(4096), "the whole pageblock is free again, on the Isolate list");
    assertEquals(MigrateType.ISOLATE, mm.aux(4096));
    assertEquals(PAGES - 512, z.freePages());
    InvariantChecker.check(a);
    iso.undoIsolatePageRange(4096, 4608);
    assertEquals(PAGES, z.freePages());
    InvariantChecker.check(a);
  }

  @ParameterizedTest(name = "{0} pageblock")
  @ValueSource(ints = {MigrateType.HIGHATOMIC, MigrateType.CMA})
  void shouldQueueHighatomicAndCmaPagesOnTheMovableList(int special) {
    // __free_frozen_pages(): migratetype >= MIGRATE_PCPTYPES and not isolate -> MIGRATE_MOVABLE
    // list; at drain time the page goes back to its pageblock's own list
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    MemMap mm = a.memMap();
    assertEquals(4096, a.allocPages(0, 0, Gfp.GFP_KERNEL));
    assertEquals(range(4097, 4111), pcpList(z, 0, UNMOVABLE_0));
    MmTestSupport.retypePageblock(z, 4096, special);
    a.freePages(0, 4096, 0);
    assertEquals(List.of(4096), pcpList(z, 0, MOVABLE_0));
    a.drainAllPages(null);
    assertEquals(MemMap.K_BUDDY, mm.kind(4096));
    assertEquals(9, mm.order(4096));
    assertEquals(special, mm.aux(4096));
    assertEquals(UNMOVABLE, mm.getPfnblockMigratetype(4608), "no merge with a special block");
    assertEquals(special == MigrateType.CMA ? 512 : 0, z.freeCmaPages());
    assertEquals(special == MigrateType.HIGHATOMIC ? 512 : 0, z.freeHighatomic());
    InvariantChecker.check(a);
  }

  @Test
  void shouldFreeAPcpPageWithItsPageblocksTypeAtDrainTimeNotFreeTime() {
    // free_pcppages_bulk(): mt = get_pfnblock_migratetype(page, pfn) when the page leaves the
    // list. The pageblock turns Unmovable while its pages sit on the Movable pcp list; the drain
    // frees them as Unmovable, the pageblock becomes whole again and __free_one_page() merges it
    // with the Movable order-9 buddy at 4608, retyping that one Unmovable as well.
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    MemMap mm = a.memMap();
    assertEquals(4096, movable(a, 0));
    a.freePages(0, 4096, 0);
    assertEquals(range(4096, 4111), pcpList(z, 0, MOVABLE_0));
    MmTestSupport.retypePageblock(z, 4096, UNMOVABLE);
    a.drainAllPages(null);
    assertEquals(MemMap.K_BUDDY, mm.kind(4096));
    assertEquals(10, mm.order(4096));
    assertEquals(UNMOVABLE, mm.aux(4096));
    assertEquals(UNMOVABLE, mm.getPfnblockMigratetype(4608));
    assertEquals(PAGES, z.freePages());
    InvariantChecker.check(a);
  }

  @Test
  void shouldDecayHighByAnEighthAndDrainWhatIsAboveIt() {
    // decay_pcp_high(): if high > high_min: high = max3(count - (batch << 5), high - high / 8,
    // high_min); then drain count - high from the tails
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    PerCpuPages p = z.pcp(0);
    movable(a, 0); // 14 pages on the list: 4097..4110
    synchronized (p) {
      p.highMin = 4;
      p.high = 12;
    }
    a.refreshCpuVmStats();
    assertEquals(11, p.high(), "max3(14 - 480, 12 - 1, 4)");
    assertEquals(11, p.count());
    assertEquals(range(4097, 4108), pcpList(z, 0, MOVABLE_0));
    a.refreshCpuVmStats();
    assertEquals(10, p.high(), "11 - 11 / 8");
    assertEquals(10, p.count());
    InvariantChecker.check(a);
  }
}
