package io.hintlab.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Page geometry (include/linux/mmzone.h, include/linux/pageblock-flags.h), the x86-64 zone layout
 * of a QEMU guest, config validation, and the state the kernel leaves at the end of boot
 * (memmap_init_range(), memblock_free_all()).
 */
class GeometryAndConfigTest {
  private static final long MIB = 1L << 20;
  private static final long GIB = 1L << 30;

  private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable e) {
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
    assertEquals(expected, ex.getMessage());
  }

  // ---------------------------------------------------------------- Geometry

  @Test
  void shouldDescribeX86WithFourKibPagesAndTwoMibPageblocks() {
    // mmzone.h: MAX_PAGE_ORDER 10, NR_PAGE_ORDERS 11; pageblock_order = HPAGE_PMD_ORDER = 9
    Geometry g = Geometry.X86_64;
    assertEquals(10, g.maxPageOrder());
    assertEquals(4096, g.pageSize());
    assertEquals(512, g.pageblockNrPages());
    assertEquals(1024, g.maxOrderNrPages());
    assertEquals(4, g.kbPerPage());
    assertEquals(3, Geometry.PAGE_ALLOC_COSTLY_ORDER);
  }

  @Test
  void shouldDescribeArm64WithSixtyFourKibPages() {
    // arm64 64K: PAGE_SHIFT 16, MAX_PAGE_ORDER 13, pageblock_order 13 (512 MiB pageblocks)
    Geometry g = new Geometry(16, 14, 13);
    assertEquals(13, g.maxPageOrder());
    assertEquals(65536, g.pageSize());
    assertEquals(8192, g.pageblockNrPages());
    assertEquals(64, g.kbPerPage());
  }

  @Test
  void shouldRoundPfnsToPageblocksWhenAskedForStartEndAndAlign() {
    // pageblock_start_pfn() = ALIGN_DOWN, pageblock_end_pfn() = ALIGN(pfn + 1), pageblock_align()
    Geometry g = Geometry.X86_64;
    assertEquals(512, g.pageblockStartPfn(1000));
    assertEquals(1024, g.pageblockEndPfn(1000));
    assertEquals(1024, g.pageblockEndPfn(512));
    assertEquals(1024, g.pageblockAlign(513));
    assertEquals(512, g.pageblockAlign(512));
    assertEquals(0, g.pageblockAlign(0));
  }

  @Test
  void shouldRejectGeometryOutsideTheKernelsBuildTimeLimitsWithExactMessages() {
    assertMessage("pageShift must be in [9, 20], got 8", () -> new Geometry(8, 11, 9));
    assertMessage("pageShift must be in [9, 20], got 21", () -> new Geometry(21, 11, 9));
    assertMessage("nrPageOrders must be in [1, 15], got 0", () -> new Geometry(12, 0, 0));
    assertMessage("nrPageOrders must be in [1, 15], got 16", () -> new Geometry(12, 16, 9));
    // mmzone.h: #error if PAGE_BLOCK_MAX_ORDER > MAX_PAGE_ORDER
    assertMessage("pageblockOrder must be in [0, MAX_PAGE_ORDER=10], got 11",
        () -> new Geometry(12, 11, 11));
    assertMessage("pageblockOrder must be in [0, MAX_PAGE_ORDER=10], got -1",
        () -> new Geometry(12, 11, -1));
  }

  // ---------------------------------------------------------------- MmConfig.forMemory layout

  private static void assertZone(ZoneSpec z, ZoneType t, int start, int end) {
    assertEquals(t, z.type(), "zone type");
    assertEquals(start, z.startPfn(), t + " start");
    assertEquals(end, z.endPfn(), t + " end");
    assertEquals(0, z.reservedPages(), t + " reserved");
  }

  @Test
  void shouldLayOutDmaFromPfnOneAndDma32UpToTheEndOfAOneGibGuest() {
    // zone_sizes_init() (arch/x86/mm/init.c): ZONE_DMA up to MAX_DMA_PFN (16 MiB), ZONE_DMA32
    // up to MAX_DMA32_PFN (4 GiB); pfn 0 is never handed to the buddy
    List<ZoneSpec> zs = MmConfig.forMemory(GIB).zones();
    assertEquals(2, zs.size());
    assertZone(zs.get(0), ZoneType.DMA, 1, 4096);
    assertZone(zs.get(1), ZoneType.DMA32, 4096, 262144);
  }

  @Test
  void shouldPutMemoryAboveFourGibInZoneNormal() {
    // zone_sizes_init(): ZONE_NORMAL up to max_low_pfn, above MAX_DMA32_PFN
    List<ZoneSpec> zs = MmConfig.forMemory(6 * GIB).zones();
    assertEquals(3, zs.size());
    assertZone(zs.get(0), ZoneType.DMA, 1, 4096);
    assertZone(zs.get(1), ZoneType.DMA32, 4096, 1 << 20);
    assertZone(zs.get(2), ZoneType.NORMAL, 1 << 20, 6 << 18);
  }

  @Test
  void shouldCarveZoneMovableFromTheTopOfMemoryWhenMovableIsSet() {
    // find_zone_movable_pfns_for_nodes() with movablecore=: ZONE_MOVABLE takes the last bytes
    // of RAM out of the highest zone
    List<ZoneSpec> zs = MmConfig.builder().memory(6 * GIB).movable(GIB).build().zones();
    assertEquals(4, zs.size());
    assertZone(zs.get(2), ZoneType.NORMAL, 1 << 20, 5 << 18);
    assertZone(zs.get(3), ZoneType.MOVABLE, 5 << 18, 6 << 18);
  }

  @Test
  void shouldCarveZoneMovableOutOfDma32WhenThereIsNoNormalZone() {
    // find_usable_zone_for_movable(): the highest populated zone below Movable gives the pages
    List<ZoneSpec> zs = MmConfig.builder().memory(2 * GIB).movable(GIB).build().zones();
    assertEquals(3, zs.size());
    assertZone(zs.get(0), ZoneType.DMA, 1, 4096);
    assertZone(zs.get(1), ZoneType.DMA32, 4096, 1 << 18);
    assertZone(zs.get(2), ZoneType.MOVABLE, 1 << 18, 1 << 19);
  }

  @Test
  void shouldHaveOnlyDmaWhenMemoryIsBelowSixteenMib() {
    // zone_sizes_init(): every zone is clipped to max_low_pfn
    List<ZoneSpec> zs = MmConfig.forMemory(8 * MIB).zones();
    assertEquals(1, zs.size());
    assertZone(zs.get(0), ZoneType.DMA, 1, 2048);
  }

  @Test
  void shouldReplaceExplicitZonesWhenMemoryIsSet() {
    // model builder rule (no kernel counterpart): memory() stands for the whole
    // zone_sizes_init() layout
    MmConfig c = MmConfig.builder()
        .zone(new ZoneSpec(ZoneType.NORMAL, 0, 4096, 0))
        .memory(16 * MIB)
        .build();
    assertEquals(1, c.zones().size());
    assertZone(c.zones().get(0), ZoneType.DMA, 1, 4096);
  }

  @Test
  void shouldRejectBadMemorySizesWithExactMessages() {
    // model limits (no kernel counterpart): two MAX_ORDER_NR_PAGES blocks at least, pfns in an
    // int, a movablecore= that leaves some memory to the kernel zones
    assertMessage("memory must be at least 8 MiB, got 8384512 bytes",
        () -> MmConfig.forMemory(8 * MIB - 4096));
    assertMessage("movable must be in [0, memory), got 1073741824",
        () -> MmConfig.builder().memory(GIB).movable(GIB).build());
    assertMessage("movable must be in [0, memory), got -4096",
        () -> MmConfig.builder().memory(GIB).movable(-4096).build());
    assertMessage("memory must be below 8191 GiB with 4096-byte pages",
        () -> MmConfig.forMemory(8192 * GIB));
  }

  // ---------------------------------------------------------------- MmConfig validation

  private static MmConfig.Builder oneZone() {
    return MmConfig.builder().zone(new ZoneSpec(ZoneType.DMA32, 4096, 4096, 0));
  }

  @Test
  void shouldRejectInvalidConfigsWithExactMessages() {
    assertMessage("at least one zone is required", () -> MmConfig.builder().build());
    assertMessage("geometry must be set", () -> oneZone().geometry(null).build());
    assertMessage("zones must be in zone-type order without repeats",
        () -> MmConfig.builder()
            .zone(new ZoneSpec(ZoneType.NORMAL, 8192, 4096, 0))
            .zone(new ZoneSpec(ZoneType.DMA32, 4096, 4096, 0))
            .build());
    assertMessage("zones must be in zone-type order without repeats",
        () -> MmConfig.builder()
            .zone(new ZoneSpec(ZoneType.DMA32, 4096, 4096, 0))
            .zone(new ZoneSpec(ZoneType.DMA32, 8192, 4096, 0))
            .build());
    assertMessage("zone Normal overlaps zone DMA32",
        () -> MmConfig.builder()
            .zone(new ZoneSpec(ZoneType.DMA32, 4096, 4096, 0))
            .zone(new ZoneSpec(ZoneType.NORMAL, 8191, 4096, 0))
            .build());
    assertMessage("nrCpus must be in [1, 1024], got 0", () -> oneZone().nrCpus(0).build());
    assertMessage("nrCpus must be in [1, 1024], got 1025", () -> oneZone().nrCpus(1025).build());
    assertMessage("minFreeKbytes must be >= 0 (or -1 for the default)",
        () -> oneZone().minFreeKbytes(-2).build());
    // vm.watermark_scale_factor: proc_dointvec_minmax [1, 3000]
    assertMessage("watermarkScaleFactor must be in [1, 3000]",
        () -> oneZone().watermarkScaleFactor(0).build());
    assertMessage("watermarkScaleFactor must be in [1, 3000]",
        () -> oneZone().watermarkScaleFactor(3001).build());
    assertMessage("watermarkBoostFactor must be >= 0",
        () -> oneZone().watermarkBoostFactor(-1).build());
    // percpu_pagelist_high_fraction_sysctl_handler(): 0 or >= MIN_PERCPU_PAGELIST_HIGH_FRACTION
    assertMessage("percpuPagelistHighFraction must be 0 or >= 8",
        () -> oneZone().percpuPagelistHighFraction(7).build());
  }

  @Test
  void shouldRejectInvalidZoneSpecsWithExactMessages() {
    // ZONE_DEVICE memory is never given to the buddy (memremap_pages()); managed_pages can not
    // exceed present_pages (__free_pages_core() adds only freed pages)
    assertMessage("zone type must be DMA, DMA32, Normal or Movable",
        () -> new ZoneSpec(ZoneType.DEVICE, 0, 1, 0));
    assertMessage("zone type must be DMA, DMA32, Normal or Movable",
        () -> new ZoneSpec(null, 0, 1, 0));
    assertMessage("zone DMA32: startPfn must be >= 0 and spannedPages > 0, got 0 and 0",
        () -> new ZoneSpec(ZoneType.DMA32, 0, 0, 0));
    assertMessage("zone Normal: startPfn must be >= 0 and spannedPages > 0, got -1 and 10",
        () -> new ZoneSpec(ZoneType.NORMAL, -1, 10, 0));
    assertMessage("zone DMA: reservedPages must be in [0, 10], got 11",
        () -> new ZoneSpec(ZoneType.DMA, 0, 10, 11));
  }

  @Test
  void shouldAcceptTheBoundaryValuesOfEverySysctl() {
    // page_alloc_sysctl_table[] ranges, and the defaults of mm/page_alloc.c: min_free_kbytes
    // from calculate_min_free_kbytes(), watermark_scale_factor 10, watermark_boost_factor 15000,
    // percpu_pagelist_high_fraction 0
    MmConfig c = oneZone().nrCpus(1024).minFreeKbytes(0).watermarkScaleFactor(3000)
        .watermarkBoostFactor(0).percpuPagelistHighFraction(8).thp(false).pcp(false).cma(false)
        .build();
    assertEquals(1024, c.nrCpus());
    assertEquals(0, c.minFreeKbytes());
    assertEquals(3000, c.watermarkScaleFactor());
    assertEquals(0, c.watermarkBoostFactor());
    assertEquals(8, c.percpuPagelistHighFraction());
    assertFalse(c.thp());
    assertFalse(c.pcp());
    assertFalse(c.cma());
    MmConfig d = MmConfig.forMemory(GIB);
    assertEquals(1, d.nrCpus());
    assertEquals(-1, d.minFreeKbytes());
    assertEquals(10, d.watermarkScaleFactor());
    assertEquals(15000, d.watermarkBoostFactor());
    assertEquals(0, d.percpuPagelistHighFraction());
    assertTrue(d.thp() && d.pcp() && d.cma());
    assertEquals(262144, d.endPfn());
  }

  // ---------------------------------------------------------------- boot state

  @Test
  void shouldFreeBootMemoryInTheLargestAlignedChunksToTheListTailsWhenBuilt() {
    // memblock_free_all() -> __free_pages_memory(): order = min(MAX_PAGE_ORDER, __ffs(pfn)),
    // each chunk freed with FPI_TO_TAIL; memmap_init_range() made every pageblock MOVABLE.
    PageAllocator a = new PageAllocator(MmConfig.forMemory(64 * MIB));
    Zone dma = a.zone(ZoneType.DMA);
    Zone dma32 = a.zone(ZoneType.DMA32);
    // DMA [1, 4096): pfn 1 order 0, 2 order 1, 4 order 2, ... 512 order 9, then 1024, 2048, 3072
    for (int o = 0; o < 10; o++) {
      assertEquals(List.of(1 << o), MmTestSupport.freeList(dma, o, MigrateType.MOVABLE),
          "DMA order " + o);
    }
    assertEquals(List.of(1024, 2048, 3072), MmTestSupport.freeList(dma, 10, MigrateType.MOVABLE));
    // DMA32 [4096, 16384): twelve order-10 blocks in ascending order (tail inserts)
    List<Integer> expected = new java.util.ArrayList<>();
    for (int p = 4096; p < 16384; p += 1024) {
      expected.add(p);
    }
    assertEquals(expected, MmTestSupport.freeList(dma32, 10, MigrateType.MOVABLE));
    assertEquals(4095, dma.freePages());
    assertEquals(12288, dma32.freePages());
    assertEquals(4095 + 12288, a.freePages());
    // NR_FREE_PAGES_BLOCKS: free pages in buddies of order >= pageblock_order
    assertEquals(512 + 3 * 1024, dma.freePagesBlocks());
    assertEquals(12288, dma32.freePagesBlocks());
    for (int pfn = 0; pfn < 16384; pfn += 512) {
      assertEquals(MigrateType.MOVABLE, a.memMap().getPfnblockMigratetype(pfn), "pb " + pfn);
    }
    assertEquals(MemMap.K_HOLE, a.memMap().kind(0), "pfn 0 is not RAM for the buddy");
    assertEquals(4095, dma.managedPages());
    assertEquals(4095, dma.presentPages());
    assertFalse(a.mobilityDisabled());
    InvariantChecker.check(a);
  }

  @Test
  void shouldKeepReservedPagesOutOfTheBuddyAndOutOfManagedPages() {
    // memblock_free_all() frees only what memblock did not reserve; __free_pages_core() counts
    // managed_pages, so present_pages - managed_pages = pages memblock keeps (kernel, firmware)
    PageAllocator a = new PageAllocator(MmConfig.builder()
        .zone(new ZoneSpec(ZoneType.DMA32, 4096, 4096, 100))
        .build());
    Zone z = a.zone(ZoneType.DMA32);
    assertEquals(4096, z.presentPages());
    assertEquals(3996, z.managedPages());
    assertEquals(3996, z.freePages());
    for (int p = 4096; p < 4196; p++) {
      assertEquals(MemMap.K_RESERVED, a.memMap().kind(p), "pfn " + p);
    }
    // the first free pfn 4196 = 4 * 1049: chunks of order 2 (4196), 3 (4200), 4 (4208),
    // 7 (4224 = 128 * 33), 8 (4352), 9 (4608), then 5120, 6144, 7168 of order 10
    assertEquals(List.of(4196), MmTestSupport.freeList(z, 2, MigrateType.MOVABLE));
    assertEquals(List.of(4200), MmTestSupport.freeList(z, 3, MigrateType.MOVABLE));
    assertEquals(List.of(4208), MmTestSupport.freeList(z, 4, MigrateType.MOVABLE));
    assertEquals(List.of(), MmTestSupport.freeList(z, 5, MigrateType.MOVABLE));
    assertEquals(List.of(), MmTestSupport.freeList(z, 6, MigrateType.MOVABLE));
    assertEquals(List.of(4224), MmTestSupport.freeList(z, 7, MigrateType.MOVABLE));
    assertEquals(List.of(4352), MmTestSupport.freeList(z, 8, MigrateType.MOVABLE));
    assertEquals(List.of(4608), MmTestSupport.freeList(z, 9, MigrateType.MOVABLE));
    assertEquals(List.of(5120, 6144, 7168), MmTestSupport.freeList(z, 10, MigrateType.MOVABLE));
    InvariantChecker.check(a);
  }

  @Test
  void shouldDisableGroupingByMobilityWhenTheGuestHasFewerPagesThanSixPageblocks() {
    // build_all_zonelists(): page_group_by_mobility_disabled if vm_total_pages <
    // pageblock_nr_pages * MIGRATE_TYPES (3072 pages); the model counts managed pages
    assertTrue(new PageAllocator(MmConfig.forMemory(8 * MIB)).mobilityDisabled());
    assertTrue(new PageAllocator(MmConfig.forMemory(12 * MIB)).mobilityDisabled(), "3071 pages");
    assertFalse(new PageAllocator(MmConfig.forMemory(12 * MIB + 4096)).mobilityDisabled(),
        "3072 pages");
  }
}
