package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MigrateType.CMA;
import static io.hintlab.guest.mm.MigrateType.HIGHATOMIC;
import static io.hintlab.guest.mm.MigrateType.ISOLATE;
import static io.hintlab.guest.mm.MigrateType.MOVABLE;
import static io.hintlab.guest.mm.MigrateType.RECLAIMABLE;
import static io.hintlab.guest.mm.MigrateType.TYPES;
import static io.hintlab.guest.mm.MigrateType.UNMOVABLE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.proc.Captures;
import io.hintlab.guest.mm.proc.PagetypeinfoData;
import io.hintlab.guest.mm.proc.PagetypeinfoParser;
import io.hintlab.guest.mm.proc.PagetypeinfoText;
import io.hintlab.guest.mm.proc.ZoneinfoData;
import io.hintlab.guest.mm.proc.ZoneinfoParser;
import io.hintlab.guest.mm.view.PageTypeInfo;
import io.hintlab.guest.mm.view.ZoneInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link PagetypeinfoImport}: the model's own pagetypeinfo must print the file's counts, and the
 * state must be one the kernel can reach (every invariant holds, no mergeable buddies are free).
 */
class PagetypeinfoImportTest {
  private static final List<String> ALL_BUT_CMA =
      List.of("Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate");
  private static final List<String> ALL =
      List.of("Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate");

  // ---------------------------------------------------------------- the real 6.1 capture

  @Test
  void shouldReproduceTheLinux61CountsWhenImportingItsPagetypeinfo() {
    PagetypeinfoData d = capture();
    PageAllocator a = PagetypeinfoImport.build(d, null, 1);
    assertRoundTrip(d, a, "linux-6.1");
    assertFalse(a.config().cma(), "the capture's kernel has no CMA type");
    Zone dma32 = a.zone(ZoneType.DMA32);
    assertEquals(504 * 512, dma32.spannedPages());
    assertEquals(dma32.spannedPages(), dma32.managedPages(), "no zoneinfo: nothing reserved");
    assertEquals(231818, dma32.freePages());
    assertEquals(0, dma32.startPfn() % a.geometry().maxOrderNrPages());
  }

  @Test
  void shouldCarryWatermarksAndManagedPagesOverWhenZoneinfoIsGiven() {
    PagetypeinfoData d = capture();
    ZoneinfoData zi = ZoneinfoParser.parse(Captures.text("zoneinfo"), "zoneinfo");
    PageAllocator a = PagetypeinfoImport.build(d, zi, 1);
    assertRoundTrip(d, a, "linux-6.1 + zoneinfo");
    for (ZoneType t : List.of(ZoneType.DMA, ZoneType.DMA32)) {
      ZoneinfoData.Zone info = zi.zone(t).orElseThrow();
      Zone z = a.zone(t);
      assertEquals(info.min(), z.wmarkPages(Zone.WMARK_MIN), t.kernelName());
      assertEquals(info.low(), z.wmarkPages(Zone.WMARK_LOW), t.kernelName());
      assertEquals(info.high(), z.wmarkPages(Zone.WMARK_HIGH), t.kernelName());
      assertEquals(info.promoOrDerived(), z.wmarkPages(Zone.WMARK_PROMO), t.kernelName());
      assertEquals(info.managed(), z.managedPages(), t.kernelName());
      assertEquals(info.startPfn().getAsLong() / 1024 * 1024, z.startPfn(), t.kernelName());
      for (int j = 0; j < ZoneType.MAX_NR_ZONES; j++) {
        assertEquals(info.protection().get(j), z.lowmemReserve(j), t.kernelName() + " " + j);
      }
      assertEquals(z.spannedPages() - z.managedPages(), countKind(a, z, MemMap.K_RESERVED));
    }
    // zone_set_pageset_high_and_batch(): high_min = low / nr_cpus, as the 6.1 pageset shows
    assertEquals(13857, a.zone(ZoneType.DMA32).pcp(0).highMin());
    assertEquals(63, a.zone(ZoneType.DMA32).pcp(0).batch());
    assertEquals((177 + 11086) * 4, a.minFreeKbytes());
  }

  @Test
  void shouldPrintTheCaptureByteForByteWhenRenderingTheImportedState() {
    PageAllocator a = PagetypeinfoImport.build(capture(), null, 2);
    assertEquals(Captures.text("pagetypeinfo"), PageTypeInfo.render(a));
  }

  @Test
  void shouldPrintTheZoneinfoWatermarksWhenRenderingTheImportedState() {
    ZoneinfoData zi = ZoneinfoParser.parse(Captures.text("zoneinfo"), "zoneinfo");
    PageAllocator a = PagetypeinfoImport.build(capture(), zi, 1);
    ZoneinfoData back = ZoneinfoParser.parse(ZoneInfo.render(a), "model zoneinfo");
    for (ZoneinfoData.Zone info : zi.zones()) {
      ZoneinfoData.Zone model = back.zone(info.zone()).orElseThrow();
      String ctx = info.zone().kernelName();
      assertEquals(info.min(), model.min(), ctx);
      assertEquals(info.low(), model.low(), ctx);
      assertEquals(info.high(), model.high(), ctx);
      assertEquals(info.protection(), model.protection(), ctx);
      if (info.populated()) {
        assertEquals(info.managed(), model.managed(), ctx);
        assertEquals(info.pagesFree(), model.pagesFree(), ctx);
      }
    }
  }

  @Test
  void shouldKeepWorkingWhenAllocatingAndFreeingAfterTheImport() {
    PageAllocator a = PagetypeinfoImport.build(capture(), null, 2);
    List<int[]> live = new ArrayList<>();
    java.util.Random r = new java.util.Random(7);
    for (int i = 0; i < 2000; i++) {
      int order = r.nextInt(4);
      int gfp = r.nextBoolean() ? Gfp.GFP_KERNEL : Gfp.GFP_USER | Gfp.__GFP_MOVABLE;
      int pfn = a.allocPages(i & 1, order, gfp);
      if (pfn >= 0) {
        live.add(new int[] {pfn, order});
      }
      if (!live.isEmpty() && r.nextInt(3) == 0) {
        int[] b = live.remove(r.nextInt(live.size()));
        a.freePages(i & 1, b[0], b[1]);
      }
    }
    a.drainAllPages(null);
    InvariantChecker.check(a);
    assertNoMergeableBuddies(a, "after a workload");
  }

  // ---------------------------------------------------------------- random reachable states

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
      1234567, 0xdeadbeefL})
  void shouldRoundTripRandomReachableStatesInBothSpacings(long seed) {
    PagetypeinfoData d = RandomMachine.generate(seed);
    String ctx = "seed " + seed;
    String exact = PagetypeinfoText.render(d);
    PagetypeinfoData parsed = PagetypeinfoParser.parse(exact, ctx);
    assertEquals(d, parsed, ctx + ": exact spacing");
    assertEquals(d, PagetypeinfoParser.parse(PagetypeinfoText.stripped(exact), ctx),
        ctx + ": trailing spaces stripped");
    PageAllocator a = PagetypeinfoImport.build(parsed, null, 1 + (int) (seed % 3));
    assertRoundTrip(d, a, ctx);
    List<String> modelTypes = a.config().cma() ? ALL : ALL_BUT_CMA;
    assertEquals(PagetypeinfoText.render(d, modelTypes), PageTypeInfo.render(a),
        ctx + ": rendered pagetypeinfo");
  }

  // ---------------------------------------------------------------- edges

  @Test
  void shouldKeepCappedCountsAndPrintThemCappedAgain() {
    long[][] free = new long[TYPES][11];
    free[MOVABLE][0] = 100000;
    free[MOVABLE][10] = 10;
    long[] blocks = new long[TYPES];
    blocks[MOVABLE] = 420;
    blocks[UNMOVABLE] = 4;
    boolean[][] capped = new boolean[TYPES][11];
    capped[MOVABLE][0] = true;
    PagetypeinfoData d = data(9, 11, ALL_BUT_CMA, zone(ZoneType.NORMAL, free, capped, blocks));
    PagetypeinfoData parsed = PagetypeinfoParser.parse(PagetypeinfoText.render(d), "capped");
    PageAllocator a = PagetypeinfoImport.build(parsed, null, 1);
    assertRoundTrip(d, a, "capped");
    assertTrue(PageTypeInfo.render(a).contains("type      Movable >100000      0 "));
  }

  @Test
  void shouldPackTwoHundredFiftySixOrderZeroBlocksIntoOnePageblock() {
    long[][] free = new long[TYPES][11];
    free[MOVABLE][0] = 256;
    long[] blocks = new long[TYPES];
    blocks[MOVABLE] = 1;
    blocks[UNMOVABLE] = 1;
    PagetypeinfoData d = data(9, 11, ALL_BUT_CMA, zone(ZoneType.DMA32, free, null, blocks));
    assertRoundTrip(d, PagetypeinfoImport.build(d, null, 1), "256 order-0");
  }

  @Test
  void shouldLeaveNonMergeableBuddiesUnmergedWhenTheirTypesDiffer() {
    // A free HighAtomic pageblock and a free Movable pageblock as buddies: __free_one_page()
    // does not merge across a non-mergeable type at pageblock order, so both stay order 9.
    long[][] free = new long[TYPES][11];
    free[HIGHATOMIC][9] = 1;
    free[MOVABLE][9] = 1;
    long[] blocks = new long[TYPES];
    blocks[HIGHATOMIC] = 1;
    blocks[MOVABLE] = 1;
    PagetypeinfoData d = data(9, 11, ALL_BUT_CMA, zone(ZoneType.DMA32, free, null, blocks));
    PageAllocator a = PagetypeinfoImport.build(d, null, 1);
    assertRoundTrip(d, a, "highatomic beside movable");
    Zone z = a.zone(ZoneType.DMA32);
    int ha = z.freeListFirst(9, HIGHATOMIC);
    assertEquals(z.freeListFirst(9, MOVABLE), ha ^ 512, "the two blocks are buddies");
    assertEquals(512, z.reservedHighatomic());
    assertEquals(512, z.freeHighatomic());
  }

  @Test
  void shouldModelIsolatedCmaAndHighatomicPageblocks() {
    long[][] free = new long[TYPES][11];
    free[ISOLATE][9] = 1;
    free[ISOLATE][3] = 2;
    free[CMA][10] = 2;
    free[CMA][0] = 5;
    free[HIGHATOMIC][4] = 1;
    free[RECLAIMABLE][8] = 1;
    long[] blocks = new long[TYPES];
    blocks[ISOLATE] = 3;
    blocks[CMA] = 6;
    blocks[HIGHATOMIC] = 2;
    blocks[RECLAIMABLE] = 1;
    blocks[MOVABLE] = 20;
    PagetypeinfoData d = data(9, 11, ALL, zone(ZoneType.NORMAL, free, null, blocks));
    PageAllocator a = PagetypeinfoImport.build(d, null, 1);
    assertRoundTrip(d, a, "special types");
    Zone z = a.zone(ZoneType.NORMAL);
    assertTrue(a.config().cma());
    assertEquals(3, z.isolatedPageblocks());
    assertEquals(6 * 512, z.cmaPages());
    assertEquals(2 * 1024 + 5, z.freeCmaPages());
    assertEquals(16, z.freeHighatomic());
    assertEquals(2 * 1024 + 5 + 16 + 256, z.freePages(), "isolated pages are not free pages");
    MemMap mm = a.memMap();
    for (int pfn = z.startPfn(); pfn < z.endPfn(); pfn += 512) {
      if (mm.isPageblockIsolated(pfn)) {
        assertEquals(MOVABLE, mm.getPageblockTypeBits(pfn), "isolated blocks keep type bits");
      }
    }
  }

  @Test
  void shouldUseOtherGeometriesFromTheFile() {
    long[][] free = new long[TYPES][14];
    free[MOVABLE][13] = 2;
    free[MOVABLE][5] = 3;
    free[UNMOVABLE][0] = 9;
    long[] blocks = new long[TYPES];
    blocks[MOVABLE] = 3;
    blocks[UNMOVABLE] = 1;
    PagetypeinfoData d = data(13, 14, ALL_BUT_CMA, zone(ZoneType.NORMAL, free, null, blocks));
    PageAllocator a = PagetypeinfoImport.build(d, null, 1);
    assertEquals(new Geometry(12, 14, 13), a.geometry());
    assertRoundTrip(d, a, "order-13 pageblocks");
  }

  @Test
  void shouldImportAMultiGigabyteZoneWithCappedCellsQuickly() {
    long[][] free = new long[TYPES][11];
    free[MOVABLE][0] = 100000;
    free[MOVABLE][1] = 100000;
    free[MOVABLE][2] = 100000;
    free[MOVABLE][3] = 50000;
    free[MOVABLE][9] = 3;
    free[MOVABLE][10] = 2700;
    free[UNMOVABLE][0] = 20000;
    for (int o = 0; o < 9; o++) {
      free[RECLAIMABLE][o] = 1;
    }
    long[] blocks = new long[TYPES];
    blocks[MOVABLE] = 8000;
    blocks[UNMOVABLE] = 150;
    blocks[RECLAIMABLE] = 42;
    boolean[][] capped = new boolean[TYPES][11];
    capped[MOVABLE][0] = true;
    PagetypeinfoData d = data(9, 11, ALL_BUT_CMA, zone(ZoneType.NORMAL, free, capped, blocks));
    long t0 = System.nanoTime();
    PageAllocator a = PagetypeinfoImport.build(d, null, 4);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(8192L * 512, a.zone(ZoneType.NORMAL).spannedPages());
    assertRoundTrip(d, a, "16 GiB zone (built in " + ms + " ms)");
  }

  // ---------------------------------------------------------------- what cannot be imported

  @ParameterizedTest(name = "{0}")
  @MethodSource("unrealisable")
  void shouldNameZoneTypeAndOrderWhenTheCountsCannotBeRealised(String name,
      PagetypeinfoData d, String message) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PagetypeinfoImport.build(d, null, 1));
    assertEquals(message, e.getMessage());
  }

  static Stream<Arguments> unrealisable() {
    return Stream.of(
        Arguments.of("two movable buddies of order 9",
            oneZone(new long[][] {{MOVABLE, 9, 2}}, MOVABLE, 2),
            "zone DMA32, order 9: 2 free Unmovable/Movable/Reclaimable blocks of order 9 would "
                + "merge as buddies: after the larger free blocks only 1 aligned order-10 regions "
                + "are left to hold one each"),
        Arguments.of("unmovable and movable buddies of order 9",
            oneZone(new long[][] {{MOVABLE, 9, 1}, {UNMOVABLE, 9, 1}}, MOVABLE, 1, UNMOVABLE, 1),
            "zone DMA32, order 9: 2 free Unmovable/Movable/Reclaimable blocks of order 9 would "
                + "merge as buddies: after the larger free blocks only 1 aligned order-10 regions "
                + "are left to hold one each"),
        Arguments.of("257 order-0 blocks in one pageblock",
            oneZone(new long[][] {{MOVABLE, 0, 257}}, MOVABLE, 1, UNMOVABLE, 1),
            "zone DMA32, type Movable: the free blocks need 2 pageblocks (0 for blocks of order "
                + ">= 9, 2 for smaller ones, which must leave an allocated page in each pageblock "
                + "and never pair up as buddies) but the type has 1"),
        Arguments.of("a pageblock wholly free in small blocks",
            oneZone(new long[][] {{MOVABLE, 0, 2}, {MOVABLE, 1, 1}, {MOVABLE, 2, 1},
                {MOVABLE, 3, 1}, {MOVABLE, 4, 1}, {MOVABLE, 5, 1}, {MOVABLE, 6, 1},
                {MOVABLE, 7, 1}, {MOVABLE, 8, 1}}, MOVABLE, 1, UNMOVABLE, 1),
            "zone DMA32, type Movable: the free blocks need 2 pageblocks (0 for blocks of order "
                + ">= 9, 2 for smaller ones, which must leave an allocated page in each pageblock "
                + "and never pair up as buddies) but the type has 1"),
        Arguments.of("more free pages than the type's pageblocks",
            oneZone(new long[][] {{MOVABLE, 10, 2}}, MOVABLE, 3, UNMOVABLE, 1),
            "zone DMA32, type Movable: the free blocks need 4 pageblocks (4 for blocks of order "
                + ">= 9, 0 for smaller ones, which must leave an allocated page in each pageblock "
                + "and never pair up as buddies) but the type has 3"),
        Arguments.of("more blocks than the zone has pages",
            oneZone(new long[][] {{MOVABLE, 10, 5}}, MOVABLE, 8),
            "zone DMA32, type Movable, order 10: 5 free blocks cannot fit in the zone's 4096 "
                + "pages"));
  }

  @Test
  void shouldRefuseAZoneinfoOfOtherZones() {
    PagetypeinfoData d = capture();
    ZoneinfoData zi = ZoneinfoParser.parse(Captures.text("zoneinfo"), "zoneinfo");
    List<ZoneinfoData.Zone> zones = new ArrayList<>(zi.zones());
    ZoneinfoData.Zone normal = zones.get(2);
    zones.set(2, new ZoneinfoData.Zone(ZoneType.NORMAL, 10, 0, 1, 2, 3, OptionalLong.empty(),
        1000, 1000, 900, 0, normal.protection(), OptionalLong.of(1 << 20)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PagetypeinfoImport.build(d, new ZoneinfoData(0, zones), 1));
    assertEquals("zone Normal is populated in zoneinfo (present 1000) but not in pagetypeinfo",
        e.getMessage());
    zones.set(2, normal);
    ZoneinfoData.Zone dma32 = zones.get(1);
    zones.set(1, new ZoneinfoData.Zone(ZoneType.DMA32, 0, 0, 0, 0, 0, OptionalLong.empty(), 0, 0,
        0, 0, dma32.protection(), OptionalLong.empty()));
    e = assertThrows(IllegalArgumentException.class,
        () -> PagetypeinfoImport.build(d, new ZoneinfoData(0, zones), 1));
    assertEquals("zone DMA32 is in pagetypeinfo but unpopulated in zoneinfo", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> PagetypeinfoImport.build(d, new ZoneinfoData(1, zi.zones()), 1));
    assertEquals("zoneinfo is for node 1 but pagetypeinfo is for node 0", e.getMessage());
  }

  // ---------------------------------------------------------------- checks

  /** The model prints the file's counts, and the state is one the kernel can reach. */
  static void assertRoundTrip(PagetypeinfoData d, PageAllocator a, String ctx) {
    assertEquals(d.zones().stream().map(PagetypeinfoData.ZoneCounts::zone).toList(),
        a.zones().stream().map(Zone::type).toList(), ctx + ": zones");
    int pbNr = a.geometry().pageblockNrPages();
    for (PagetypeinfoData.ZoneCounts zc : d.zones()) {
      Zone z = a.zone(zc.zone());
      String zctx = ctx + ", zone " + z.name();
      long[] pageblocks = pageblockCounts(a, z);
      for (int mt = 0; mt < TYPES; mt++) {
        String tctx = zctx + ", type " + MigrateType.name(mt);
        assertEquals(zc.blocks(mt), pageblocks[mt], tctx + ": pageblocks");
        for (int o = 0; o < d.nrPageOrders(); o++) {
          assertEquals(zc.free(mt, o), z.freeListLength(o, mt), tctx + ", order " + o);
        }
      }
      assertEquals(zc.blocks(HIGHATOMIC) * pbNr, z.reservedHighatomic(), zctx);
      assertEquals(zc.blocks(CMA) * pbNr, z.cmaPages(), zctx);
      assertEquals(zc.blocks(ISOLATE), z.isolatedPageblocks(), zctx);
      assertEquals(zc.totalBlocks() * pbNr, z.spannedPages(), zctx);
      assertEquals(0, z.startPfn() % a.geometry().maxOrderNrPages(), zctx + ": start");
    }
    List<String> violations = InvariantChecker.violations(a);
    assertTrue(violations.isEmpty(), ctx + ": " + violations);
    assertNoMergeableBuddies(a, ctx);
  }

  /** pagetypeinfo_showblockcount_print(): step each zone a pageblock at a time. */
  static long[] pageblockCounts(PageAllocator a, Zone z) {
    long[] n = new long[TYPES];
    for (int pfn = z.startPfn(); pfn < z.endPfn(); pfn += a.geometry().pageblockNrPages()) {
      n[a.memMap().getPfnblockMigratetype(pfn)]++;
    }
    return n;
  }

  /**
   * Scans every zone: no free block has a free buddy of the same order that __free_one_page()
   * would have merged it with (at pageblock order and above: same type, or both mergeable).
   */
  static void assertNoMergeableBuddies(PageAllocator a, String ctx) {
    MemMap mm = a.memMap();
    Geometry geo = a.geometry();
    for (Zone z : a.zones()) {
      for (int pfn = z.startPfn(); pfn < z.endPfn(); pfn++) {
        if (!mm.isBuddy(pfn)) {
          continue;
        }
        int o = mm.order(pfn);
        int buddy = pfn ^ (1 << o);
        if (o == geo.maxPageOrder() || !z.spans(buddy) || !mm.isBuddy(buddy)
            || mm.order(buddy) != o) {
          continue;
        }
        int mt = mm.aux(pfn);
        int bmt = mm.aux(buddy);
        boolean merges = o < geo.pageblockOrder() || mt == bmt
            || (MigrateType.isMergeable(mt) && MigrateType.isMergeable(bmt));
        assertFalse(merges, ctx + ", " + z + ": free buddies at pfn " + pfn + " and " + buddy
            + " of order " + o + " (" + MigrateType.name(mt) + ", " + MigrateType.name(bmt) + ")");
      }
    }
  }

  private static long countKind(PageAllocator a, Zone z, int kind) {
    long n = 0;
    for (int pfn = z.startPfn(); pfn < z.endPfn(); pfn++) {
      if (a.memMap().kind(pfn) == kind) {
        n++;
      }
    }
    return n;
  }

  // ---------------------------------------------------------------- data

  private static PagetypeinfoData capture() {
    return PagetypeinfoParser.parse(Captures.text("pagetypeinfo"), "pagetypeinfo");
  }

  private static PagetypeinfoData data(int pbOrder, int orders, List<String> types,
      PagetypeinfoData.ZoneCounts zone) {
    return new PagetypeinfoData(pbOrder, orders, 0, types, List.of(zone));
  }

  private static PagetypeinfoData.ZoneCounts zone(ZoneType t, long[][] free, boolean[][] capped,
      long[] blocks) {
    return new PagetypeinfoData.ZoneCounts(t, free, capped, blocks);
  }

  /**
   * A DMA32-only x86-64 file.
   *
   * @param cells {type, order, count} triples
   * @param typeBlocks type, pageblocks, type, pageblocks, ...
   */
  private static PagetypeinfoData oneZone(long[][] cells, int... typeBlocks) {
    long[][] free = new long[TYPES][11];
    for (long[] c : cells) {
      free[(int) c[0]][(int) c[1]] = c[2];
    }
    long[] blocks = new long[TYPES];
    for (int i = 0; i < typeBlocks.length; i += 2) {
      blocks[typeBlocks[i]] = typeBlocks[i + 1];
    }
    return data(9, 11, ALL_BUT_CMA, zone(ZoneType.DMA32, free, null, blocks));
  }
}
