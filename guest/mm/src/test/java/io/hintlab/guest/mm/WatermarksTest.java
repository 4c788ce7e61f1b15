package io.hintlab.guest.mm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Boot-time sizing (mm/page_alloc.c, mm/khugepaged.c): min_free_kbytes, the per-zone watermarks,
 * lowmem_reserve and the pcp batch and high limits. Every expected number is worked out by hand
 * from the kernel formula in the comment next to it.
 */
class WatermarksTest {
  private static final long MIB = 1L << 20;
  private static final long GIB = 1L << 30;

  /** A zone that only carries a type, managed pages and a high watermark (no memory map). */
  private static Zone fakeZone(ZoneType t, long managed, long high) {
    Zone z = new Zone(t, new MemMap(Geometry.X86_64, 1), 0, 0);
    z.managed = managed;
    z.watermark[Zone.WMARK_HIGH] = high;
    return z;
  }

  private static long[] marks(Zone z) {
    return new long[] {
      z.watermark(Zone.WMARK_MIN), z.watermark(Zone.WMARK_LOW), z.watermark(Zone.WMARK_HIGH),
      z.watermark(Zone.WMARK_PROMO)
    };
  }

  private static long[] protection(Zone z) {
    long[] p = new long[ZoneType.MAX_NR_ZONES];
    for (int i = 0; i < p.length; i++) {
      p[i] = z.lowmemReserve(i);
    }
    return p;
  }

  // ---------------------------------------------------------------- calculate_min_free_kbytes

  @ParameterizedTest(name = "{0} MiB of lowmem -> {1} KiB")
  @CsvSource({
    "16, 512", "32, 724", "64, 1024", "128, 1448", "256, 2048", "512, 2896", "1024, 4096",
    "2048, 5792", "4096, 8192",
    // the source comment's table says 11584k; int_sqrt(8 GiB in KiB * 16) = 11585
    "8192, 11585", "16384, 16384"
  })
  void shouldGiveTheSquareRootOfSixteenTimesLowmemKbytesWhenComputingMinFreeKbytes(
      long mib, long expectedKb) {
    // calculate_min_free_kbytes(): int_sqrt(nr_free_buffer_pages() * 4 * 16)
    Zone z = fakeZone(ZoneType.DMA32, mib * 256, 0);
    assertEquals(expectedKb, Watermarks.calculateMinFreeKbytes(List.of(z), Geometry.X86_64));
  }

  @Test
  void shouldClampMinFreeKbytesToTheKernelsBoundsWhenLowmemIsTinyOrHuge() {
    // clamp(new_min_free_kbytes, 128, 262144)
    assertEquals(128, Watermarks.calculateMinFreeKbytes(
        List.of(fakeZone(ZoneType.DMA, 100, 0)), Geometry.X86_64), "int_sqrt(6400) = 80");
    assertEquals(262144, Watermarks.calculateMinFreeKbytes(
        List.of(fakeZone(ZoneType.NORMAL, 1L << 31, 0)), Geometry.X86_64), "8 TiB -> 370727");
  }

  @Test
  void shouldCountOnlyManagedPagesAboveTheHighWatermarkOfLowZonesWhenComputingMinFreeKbytes() {
    // nr_free_buffer_pages() = sum over zones <= gfp_zone(GFP_USER) of managed - high; Movable is
    // not lowmem for this purpose
    List<Zone> zones = List.of(
        fakeZone(ZoneType.DMA32, 262144 + 1000, 1000),
        fakeZone(ZoneType.MOVABLE, 1 << 20, 0));
    assertEquals(4096, Watermarks.calculateMinFreeKbytes(zones, Geometry.X86_64));
  }

  @Test
  void shouldUseTheSquareRootAloneWhenThpIsOff() {
    // 1 GiB guest: pfn 0 is a hole, so lowmem is 262143 pages = 1048572 KiB;
    // int_sqrt(1048572 * 16 = 16777152) = 4095 (4096^2 = 16777216 is one step too far)
    PageAllocator a = new PageAllocator(MmConfig.builder().memory(GIB).thp(false).build());
    assertEquals(4095, a.minFreeKbytes());
  }

  // ------------------------------------------------------- set_recommended_min_free_kbytes

  @Test
  void shouldRecommendElevenPageblocksPerLowZoneWhenKhugepagedRuns() {
    // set_recommended_min_free_kbytes(): pageblock_nr_pages * nr_zones * (2 + MIGRATE_PCPTYPES^2)
    // 1 GiB (DMA, DMA32): 512 * 2 * 11 = 11264 pages = 45056 KiB (5% of lowmem is 13029 pages)
    assertEquals(45056, new PageAllocator(MmConfig.forMemory(GIB)).minFreeKbytes());
    // 6 GiB (DMA, DMA32, Normal): 512 * 3 * 11 = 16896 pages = 67584 KiB
    assertEquals(67584, new PageAllocator(MmConfig.forMemory(6 * GIB)).minFreeKbytes());
    // ZONE_MOVABLE is skipped (zone_idx > gfp_zone(GFP_USER)): still three zones
    assertEquals(67584,
        new PageAllocator(MmConfig.builder().memory(6 * GIB).movable(GIB).build()).minFreeKbytes());
  }

  @Test
  void shouldCapTheRecommendationAtFivePercentOfLowmemAboveTheHighWatermarks() {
    // init_per_zone_wmark_min() (postcore_initcall) sets the watermarks from the int_sqrt value
    // first; hugepage_init() (subsys_initcall) -> start_stop_khugepaged() ->
    // set_recommended_min_free_kbytes() then caps at nr_free_buffer_pages() / 20, and
    // nr_free_buffer_pages() is managed - high_wmark_pages() of each low zone.
    //
    // 512 MiB: DMA 4095 + DMA32 126976 managed; int_sqrt(131071 * 64) = 2896 KiB, pages_min 724.
    //   DMA:   min 724*4095/131071 = 22, step max(22>>2, 4095*10/10000) = 5, high 32
    //   DMA32: min 724*126976/131071 = 701, step max(175, 126) = 175, high 1051
    //   nr_free_buffer_pages = (4095 - 32) + (126976 - 1051) = 129988; / 20 = 6499 pages
    //   min(11264, 6499) * 4 = 25996 KiB
    assertEquals(25996, new PageAllocator(MmConfig.forMemory(512 * MIB)).minFreeKbytes());
    // 16 MiB: DMA 4095; int_sqrt(4095 * 64) = 511 KiB, pages_min 127: min 127, step 31, high 189
    //   (4095 - 189) / 20 = 195 pages -> 780 KiB
    assertEquals(780, new PageAllocator(MmConfig.forMemory(16 * MIB)).minFreeKbytes());
  }

  @Test
  void shouldOnlyRaiseMinFreeKbytesWhenRecommending() {
    // set_recommended_min_free_kbytes(): if (recommended_min > min_free_kbytes)
    // min_free_kbytes = recommended_min
    List<Zone> zones = List.of(fakeZone(ZoneType.DMA32, 262144, 0));
    zones.get(0).present = 262144;
    assertEquals(100000, Watermarks.recommendedMinFreeKbytes(zones, Geometry.X86_64, 100000));
    assertEquals(512 * 11 * 4, Watermarks.recommendedMinFreeKbytes(zones, Geometry.X86_64, 128));
  }

  @Test
  void shouldKeepAnExplicitMinFreeKbytes() {
    // min_free_kbytes_sysctl_handler() sets user_min_free_kbytes; calculate_min_free_kbytes()
    // then keeps the user's value
    PageAllocator a = new PageAllocator(MmConfig.builder().memory(GIB).minFreeKbytes(1234).build());
    assertEquals(1234, a.minFreeKbytes());
  }

  // ---------------------------------------------------------------- __setup_per_zone_wmarks

  @Test
  void shouldSplitMinFreeKbytesOverLowZonesByManagedPagesForAOneGibGuest() {
    // __setup_per_zone_wmarks(): pages_min = 45056 >> 2 = 11264, lowmem_pages = 262143
    //   DMA:   tmp = 11264 * 4095 / 262143 = 175; step = max(175 >> 2, 4095 * 10 / 10000) = 43
    //   DMA32: tmp = 11264 * 258048 / 262143 = 11088; step = max(2772, 258) = 2772
    // LOW = MIN + step, HIGH = LOW + step, PROMO = HIGH + step
    PageAllocator a = new PageAllocator(MmConfig.forMemory(GIB));
    assertArrayEquals(new long[] {175, 218, 261, 304}, marks(a.zone(ZoneType.DMA)));
    assertArrayEquals(new long[] {11088, 13860, 16632, 19404}, marks(a.zone(ZoneType.DMA32)));
    assertEquals(0, a.zone(ZoneType.DMA32).watermarkBoost());
    assertEquals(16632, a.zone(ZoneType.DMA32).wmarkPages(Zone.WMARK_HIGH));
  }

  @Test
  void shouldSizeTheWatermarkStepByWatermarkScaleFactorWhenItIsLarger() {
    // step = max(tmp >> 2, managed * watermark_scale_factor / 10000), factor 1000 = 10%
    //   DMA:   max(43, 409) = 409;  DMA32: max(2772, 25804) = 25804
    PageAllocator a = new PageAllocator(
        MmConfig.builder().memory(GIB).minFreeKbytes(45056).watermarkScaleFactor(1000).build());
    assertArrayEquals(new long[] {175, 584, 993, 1402}, marks(a.zone(ZoneType.DMA)));
    assertArrayEquals(new long[] {11088, 36892, 62696, 88500}, marks(a.zone(ZoneType.DMA32)));
  }

  @Test
  void shouldCapTheMovableZonesMinWatermarkButNotItsSteps() {
    // is_highmem() || ZONE_MOVABLE: min = clamp(managed / 1024, SWAP_CLUSTER_MAX, 128), but the
    // step still comes from tmp = pages_min * managed / lowmem_pages (lowmem excludes Movable).
    // 6 GiB + movablecore=1G: pages_min 16896; lowmem 4095 + 1044480 + 262144 = 1310719
    //   Movable: min = clamp(262144 / 1024 = 256) = 128; tmp = 16896*262144/1310719 = 3379,
    //   step = max(844, 262) = 844
    PageAllocator a =
        new PageAllocator(MmConfig.builder().memory(6 * GIB).movable(GIB).build());
    assertArrayEquals(new long[] {128, 972, 1816, 2660}, marks(a.zone(ZoneType.MOVABLE)));
    assertArrayEquals(new long[] {3379, 4223, 5067, 5911}, marks(a.zone(ZoneType.NORMAL)));
    // 64 MiB + movablecore=16M, min_free_kbytes 2388 (pages_min 597, lowmem 12287):
    //   Movable managed 4096: min = clamp(4, 32, 128) = 32; tmp = 597*4096/12287 = 199, step 49
    PageAllocator small = new PageAllocator(
        MmConfig.builder().memory(64 * MIB).movable(16 * MIB).minFreeKbytes(2388).build());
    assertArrayEquals(new long[] {32, 81, 130, 179}, marks(small.zone(ZoneType.MOVABLE)));
  }

  // ---------------------------------------------------------------- setup_per_zone_lowmem_reserve

  @Test
  void shouldProtectDmaByTheManagedPagesAboveItOverTwoHundredFiftySixForAOneGibGuest() {
    // setup_per_zone_lowmem_reserve(): lowmem_reserve[j] of zone i =
    // (managed of zones i+1..j) / sysctl_lowmem_reserve_ratio[i]
    // DMA: 258048 / 256 = 1008 for every higher index; DMA32 has nothing above it
    PageAllocator a = new PageAllocator(MmConfig.forMemory(GIB));
    assertArrayEquals(new long[] {0, 1008, 1008, 1008, 1008}, protection(a.zone(ZoneType.DMA)));
    assertArrayEquals(new long[] {0, 0, 0, 0, 0}, protection(a.zone(ZoneType.DMA32)));
  }

  @Test
  void shouldAccumulateHigherZonesAndUseRatioThirtyTwoForNormal() {
    // setup_per_zone_lowmem_reserve(), ratios 256, 256, 32, 0 (sysctl_lowmem_reserve_ratio[])
    // 6 GiB + movablecore=1G: DMA 4095, DMA32 1044480, Normal 262144, Movable 262144
    //   DMA:   1044480/256 = 4080, 1306624/256 = 5104, 1568768/256 = 6128, 6128 (Device empty)
    //   DMA32: 262144/256 = 1024, 524288/256 = 2048, 2048
    //   Normal (ratio 32): 262144/32 = 8192, 8192; Movable (ratio 0): cleared
    PageAllocator a =
        new PageAllocator(MmConfig.builder().memory(6 * GIB).movable(GIB).build());
    assertArrayEquals(new long[] {0, 4080, 5104, 6128, 6128}, protection(a.zone(ZoneType.DMA)));
    assertArrayEquals(new long[] {0, 0, 1024, 2048, 2048}, protection(a.zone(ZoneType.DMA32)));
    assertArrayEquals(new long[] {0, 0, 0, 8192, 8192}, protection(a.zone(ZoneType.NORMAL)));
    assertArrayEquals(new long[] {0, 0, 0, 0, 0}, protection(a.zone(ZoneType.MOVABLE)));
  }

  // ---------------------------------------------------------------- zone_batchsize, zone_highsize

  @ParameterizedTest(name = "managed {0} -> batch {1}")
  @CsvSource({
    // batch = min(managed >> 10, 256) / 4 (at least 1); rounddown_pow_of_two(b + b/2) - 1
    "4095, 0", // 3/4 = 0 -> 1; rounddown(1) - 1 = 0 (the caller makes it max(1, 0))
    "65536, 15", // 256 MiB: 64/4 = 16; 16 + 8 = 24 -> 16 - 1
    "126976, 31", // 124/4 = 31; 46 -> 32 - 1
    "176127, 31", // 171/4 = 42; 63 -> 32 - 1
    "176128, 63", // 172/4 = 43; 64 -> 64 - 1: the first zone size (688 MiB) with batch 63
    "258048, 63",
    "16777216, 63" // 64 GiB: capped at 1 MiB / PAGE_SIZE = 256 -> 64; 96 -> 64 - 1
  })
  void shouldRoundTheBatchDownToAPowerOfTwoMinusOneWhenSizingIt(long managed, int batch) {
    // zone_batchsize()
    assertEquals(batch, Watermarks.zoneBatchsize(fakeZone(ZoneType.DMA32, managed, 0),
        Geometry.X86_64));
  }

  @Test
  void shouldSetHighMinFromTheLowWatermarkAndHighMaxFromAnEighthOfTheZonePerCpu() {
    // zone_set_pageset_high_and_batch(): high_min = zone_highsize(low_wmark / cpus),
    // high_max = zone_highsize(managed / 8 / cpus), both at least batch * 4
    PageAllocator one = new PageAllocator(MmConfig.forMemory(GIB));
    PerCpuPages dma = one.zone(ZoneType.DMA).pcp(0);
    assertEquals(1, dma.batch(), "max(1, zone_batchsize() = 0)");
    assertEquals(218, dma.highMin());
    assertEquals(511, dma.highMax(), "4095 / 8");
    assertEquals(218, dma.high(), "pcp->high starts at high_min");
    PerCpuPages dma32 = one.zone(ZoneType.DMA32).pcp(0);
    assertEquals(63, dma32.batch());
    assertEquals(13860, dma32.highMin());
    assertEquals(32256, dma32.highMax(), "258048 / 8");

    PageAllocator four = new PageAllocator(MmConfig.builder().memory(GIB).nrCpus(4).build());
    for (int cpu = 0; cpu < 4; cpu++) {
      PerCpuPages p = four.zone(ZoneType.DMA32).pcp(cpu);
      assertEquals(13860 / 4, p.highMin(), "cpu " + cpu);
      assertEquals(32256 / 4, p.highMax(), "cpu " + cpu);
    }
    assertEquals(218 / 4, four.zone(ZoneType.DMA).pcp(0).highMin());
    assertEquals(511 / 4, four.zone(ZoneType.DMA).pcp(0).highMax());
  }

  @Test
  void shouldNotLetHighFallBelowFourBatches() {
    // zone_highsize(): high = max(high, batch << 2); 64 cpus on 1 GiB: DMA32 low 13860 / 64 = 216
    // < 63 * 4 = 252
    PageAllocator a = new PageAllocator(MmConfig.builder().memory(GIB).nrCpus(64).build());
    assertEquals(252, a.zone(ZoneType.DMA32).pcp(0).highMin());
    assertEquals(504, a.zone(ZoneType.DMA32).pcp(0).highMax(), "32256 / 64");
  }

  @Test
  void shouldFixHighWhenPercpuPagelistHighFractionIsSet() {
    // zone_set_pageset_high_and_batch() with percpu_pagelist_high_fraction:
    // high_min = high_max = zone_highsize(managed / fraction / cpus), no auto-tuning
    PageAllocator a = new PageAllocator(
        MmConfig.builder().memory(GIB).nrCpus(2).percpuPagelistHighFraction(8).build());
    PerCpuPages p = a.zone(ZoneType.DMA32).pcp(1);
    assertEquals(258048 / 8 / 2, p.highMin());
    assertEquals(258048 / 8 / 2, p.highMax());
  }

  @Test
  void shouldUseTheBootPagesetWhenPcpIsOff() {
    // BOOT_PAGESET_HIGH 0, BOOT_PAGESET_BATCH 1
    PageAllocator a = new PageAllocator(MmConfig.builder().memory(GIB).pcp(false).build());
    PerCpuPages p = a.zone(ZoneType.DMA32).pcp(0);
    assertEquals(0, p.highMin());
    assertEquals(0, p.highMax());
    assertEquals(1, p.batch());
  }
}
