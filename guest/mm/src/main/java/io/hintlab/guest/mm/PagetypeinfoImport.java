package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MemMap.K_ALLOC;
import static io.hintlab.guest.mm.MemMap.K_BUDDY;
import static io.hintlab.guest.mm.MemMap.K_FREE_TAIL;
import static io.hintlab.guest.mm.MemMap.K_HOLE;
import static io.hintlab.guest.mm.MemMap.K_RESERVED;
import static io.hintlab.guest.mm.MemMap.K_TAIL;
import static io.hintlab.guest.mm.MemMap.NIL;
import static io.hintlab.guest.mm.MigrateType.CMA;
import static io.hintlab.guest.mm.MigrateType.HIGHATOMIC;
import static io.hintlab.guest.mm.MigrateType.ISOLATE;
import static io.hintlab.guest.mm.MigrateType.MOVABLE;
import static io.hintlab.guest.mm.MigrateType.TYPES;
import static io.hintlab.guest.mm.MigrateType.UNMOVABLE;

import io.hintlab.guest.mm.proc.PagetypeinfoData;
import io.hintlab.guest.mm.proc.ZoneinfoData;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Builds an allocator whose own /proc/pagetypeinfo prints the same free-block counts per zone,
 * migratetype and order, and the same pageblock counts per migratetype, as a real machine's file
 * ({@code --from-pagetypeinfo FILE [--zoneinfo FILE]}).
 *
 * <p>What is taken from where:
 *
 * <ul>
 *   <li>Geometry: pageblock order and number of orders from the file, 4 KiB pages (the file does
 *       not say; PAGE_SHIFT 12).
 *   <li>Zones: those of the file, each spanning exactly its pageblocks (spanned = present = the
 *       sum of its block counts times pageblock_nr_pages; the model has no holes inside a zone).
 *       Zones start at MAX_ORDER_NR_PAGES-aligned pfns, so that order-MAX_PAGE_ORDER blocks can be
 *       placed: at zoneinfo's start_pfn rounded down when that leaves room, else right after the
 *       previous zone (hole pfns in between). CMA is configured only if the file has a CMA type.
 *   <li>With zoneinfo: reserved pages = spanned - managed, clamped to [0, pages not free];
 *       watermarks (min, low, high, promo, or high + (high - low) without promo), the boost and
 *       lowmem_reserve ("protection") replace the computed ones; min_free_kbytes is the sum of the
 *       lowmem zones' min watermarks; pcp high and batch are recomputed from the new low
 *       watermark (zone_set_pageset_high_and_batch()).
 *   <li>State: {@link FreeBlockLayout} decides each pageblock's type and where the free blocks
 *       go so that no two of them are buddies __free_one_page() would have merged. Every other
 *       page is allocated: the first {@code reserved} such pages of the zone are PageReserved, the
 *       rest are allocated blocks, each the largest aligned block that fits in its gap, at most a
 *       pageblock, owned by nobody.
 * </ul>
 *
 * <p>The allocation type of filler blocks is the pageblock's type for Unmovable, Movable and
 * Reclaimable pageblocks; UNMOVABLE in HighAtomic pageblocks (the reserve serves high-order atomic
 * allocations, which are unmovable); MOVABLE in CMA pageblocks (only movable allocations may use
 * them) and in isolated pageblocks (start_isolate_page_range() fails on a pageblock with unmovable
 * pages, so an isolated one holds only free and movable pages). An isolated pageblock has the
 * 3-bit type MOVABLE plus the isolate bit.
 *
 * <p>Known differences from the real machine: zone spans and pfns (the model's zones are whole
 * pageblocks without holes), present pages, the order of blocks on each free list, and which pfns
 * are free; per-cpu lists start empty. Counts the kernel capped ("&gt;100000") are taken as
 * 100000 blocks, which the model prints capped again.
 */
public final class PagetypeinfoImport {
  /** PAGE_SHIFT of imported machines: pagetypeinfo does not print the page size. */
  static final int PAGE_SHIFT = 12;

  private PagetypeinfoImport() {}

  /** One zone to build: its span and its computed layout. */
  private record ZonePlan(ZoneType type, int startPfn, int spanned, int reserved,
      FreeBlockLayout layout) {}

  /**
   * Builds the allocator state a pagetypeinfo (and optionally a zoneinfo) describes.
   *
   * @param pti the parsed /proc/pagetypeinfo
   * @param zi the parsed /proc/zoneinfo of the same machine, or null
   * @param nrCpus modelled cpus (pcp high is split over them)
   * @return a fresh allocator, every pcp list empty
   * @throws IllegalArgumentException when the files disagree, or the counts cannot be realised
   *     (the message names zone, type and order and the numbers)
   */
  public static PageAllocator build(PagetypeinfoData pti, ZoneinfoData zi, int nrCpus) {
    if (pti == null) {
      throw new IllegalArgumentException("pagetypeinfo must not be null");
    }
    Geometry geo = geometry(pti);
    List<ZonePlan> plans = plan(pti, zi, geo);
    MmConfig cfg = config(pti, zi, geo, plans, nrCpus);
    PageAllocator a = new PageAllocator(cfg);
    for (ZonePlan p : plans) {
      rebuildZone(a.zone(p.type()), p);
    }
    if (zi != null) {
      applyZoneinfo(a, zi);
    }
    for (Zone z : a.allZones()) {
      Watermarks.setPagesetHighAndBatch(z, cfg);
    }
    for (Zone z : a.zones()) {
      checkNoMergeableBuddies(z);
    }
    return a;
  }

  private static Geometry geometry(PagetypeinfoData pti) {
    try {
      return new Geometry(PAGE_SHIFT, pti.nrPageOrders(), pti.pageblockOrder());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("pagetypeinfo geometry cannot be modelled: "
          + e.getMessage(), e);
    }
  }

  // ---------------------------------------------------------------- planning (no state yet)

  private static List<ZonePlan> plan(PagetypeinfoData pti, ZoneinfoData zi, Geometry geo) {
    if (zi != null) {
      checkSameZones(pti, zi);
    }
    List<ZonePlan> plans = new ArrayList<>();
    long prevEnd = 0;
    long maxNr = geo.maxOrderNrPages();
    for (PagetypeinfoData.ZoneCounts zc : pti.zones()) {
      ZoneinfoData.Zone info = zi == null ? null : zi.zone(zc.zone()).orElseThrow();
      String name = zc.zone().kernelName();
      FreeBlockLayout layout = FreeBlockLayout.compute(name, geo, blocks(zc), free(zc));
      long spanned = zc.totalBlocks() << geo.pageblockOrder();
      long start = (prevEnd + maxNr - 1) / maxNr * maxNr;
      if (info != null && info.startPfn().isPresent()) {
        start = Math.max(start, info.startPfn().getAsLong() / maxNr * maxNr);
      }
      if (start + spanned > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("zone " + name + " would end at pfn "
            + (start + spanned) + ", beyond the model's limit of " + Integer.MAX_VALUE);
      }
      long reserved = 0;
      if (info != null) {
        reserved = Math.clamp(spanned - info.managed(), 0, spanned - zc.freePages());
      }
      plans.add(new ZonePlan(zc.zone(), (int) start, (int) spanned, (int) reserved, layout));
      prevEnd = start + spanned;
    }
    return plans;
  }

  /** The populated zones of zoneinfo are exactly the zones of pagetypeinfo, on the same node. */
  private static void checkSameZones(PagetypeinfoData pti, ZoneinfoData zi) {
    if (zi.nodeId() != pti.nodeId()) {
      throw new IllegalArgumentException("zoneinfo is for node " + zi.nodeId()
          + " but pagetypeinfo is for node " + pti.nodeId());
    }
    for (PagetypeinfoData.ZoneCounts zc : pti.zones()) {
      ZoneinfoData.Zone info = zi.zone(zc.zone()).orElse(null);
      if (info == null || !info.populated()) {
        throw new IllegalArgumentException("zone " + zc.zone().kernelName()
            + " is in pagetypeinfo but " + (info == null ? "missing from" : "unpopulated in")
            + " zoneinfo");
      }
    }
    for (ZoneinfoData.Zone info : zi.zones()) {
      if (info.populated() && pti.zone(info.zone()).isEmpty()) {
        throw new IllegalArgumentException("zone " + info.zone().kernelName()
            + " is populated in zoneinfo (present " + info.present() + ") but not in "
            + "pagetypeinfo");
      }
    }
  }

  private static long[] blocks(PagetypeinfoData.ZoneCounts zc) {
    long[] b = new long[TYPES];
    for (int mt = 0; mt < TYPES; mt++) {
      b[mt] = zc.blocks(mt);
    }
    return b;
  }

  private static long[][] free(PagetypeinfoData.ZoneCounts zc) {
    long[][] f = new long[TYPES][zc.nrPageOrders()];
    for (int mt = 0; mt < TYPES; mt++) {
      for (int o = 0; o < zc.nrPageOrders(); o++) {
        f[mt][o] = zc.free(mt, o);
      }
    }
    return f;
  }

  private static MmConfig config(PagetypeinfoData pti, ZoneinfoData zi, Geometry geo,
      List<ZonePlan> plans, int nrCpus) {
    MmConfig.Builder b = MmConfig.builder().geometry(geo).nrCpus(nrCpus).cma(pti.hasType(CMA));
    for (ZonePlan p : plans) {
      b.zone(new ZoneSpec(p.type(), p.startPfn(), p.spanned(), p.reserved()));
    }
    if (zi != null) {
      // __setup_per_zone_wmarks() splits pages_min over the lowmem zones: their min watermarks
      // add up to min_free_kbytes (less rounding).
      long pagesMin = 0;
      for (ZonePlan p : plans) {
        ZoneinfoData.Zone info = zi.zone(p.type()).orElseThrow();
        if (p.type() != ZoneType.MOVABLE) {
          pagesMin += info.min() - info.boost();
        }
      }
      if (pagesMin > 0) {
        b.minFreeKbytes(pagesMin * geo.kbPerPage());
      }
    }
    return b.build();
  }

  // ---------------------------------------------------------------- building the state

  /** Replaces the boot state of zone z with the planned one, under the zone lock. */
  private static void rebuildZone(Zone z, ZonePlan p) {
    z.lock.lock();
    try {
      z.resetFreeArea();
      MemMap mm = z.mm;
      int start = z.startPfn;
      int end = z.endPfn();
      Arrays.fill(mm.state, start, end, (byte) 0);
      Arrays.fill(mm.order, start, end, (byte) 0);
      Arrays.fill(mm.owner, start, end, 0);
      Arrays.fill(mm.next, start, end, NIL);
      Arrays.fill(mm.prev, start, end, NIL);
      writePageblocks(z, p.layout());
      placeFreeBlocks(z, p.layout());
      fillAllocated(z, p.layout(), p.reserved());
    } finally {
      z.lock.unlock();
    }
  }

  /** Pageblock types; isolated ones are MOVABLE plus the isolate bit (v6.16+). */
  private static void writePageblocks(Zone z, FreeBlockLayout layout) {
    MemMap mm = z.mm;
    int nr = z.geo.pageblockNrPages();
    for (int i = 0; i < layout.pageblockType.length; i++) {
      int pfn = z.startPfn + i * nr;
      int mt = layout.pageblockType[i];
      mm.setPageblockSkip(pfn, false);
      mm.setPageblockIsolate(pfn, mt == ISOLATE);
      mm.setPageblockTypeBits(pfn, mt == ISOLATE ? MOVABLE : mt);
      if (mt == ISOLATE) {
        z.nrIsolatePageblock++;
      } else if (mt == HIGHATOMIC) {
        z.nrReservedHighatomic += nr;
      } else if (mt == CMA) {
        z.cmaPages += nr;
      }
    }
  }

  /** __add_to_free_list() and account_freepages() for every planned free block. */
  private static void placeFreeBlocks(Zone z, FreeBlockLayout layout) {
    MemMap mm = z.mm;
    for (int i = 0; i < layout.size; i++) {
      int pfn = z.startPfn + layout.offset[i];
      int order = layout.order[i];
      int mt = layout.type[i];
      z.addToFreeList(pfn, order, mt, true);
      mm.fillTails(pfn, order, K_FREE_TAIL, 0);
      z.accountFreepages(1L << order, mt);
    }
  }

  /**
   * Every page not in a free block: the first {@code reserved} are PageReserved, the rest are
   * allocated in the largest aligned blocks (at most a pageblock) that fit between free blocks.
   */
  private static void fillAllocated(Zone z, FreeBlockLayout layout, int reserved) {
    MemMap mm = z.mm;
    int end = z.endPfn();
    int reservedLeft = reserved;
    for (int pfn = z.startPfn; pfn < end; ) {
      if (mm.kind(pfn) == K_BUDDY) {
        pfn += 1 << mm.order(pfn);
        continue;
      }
      int gapEnd = pfn;
      while (gapEnd < end && mm.kind(gapEnd) == K_HOLE) {
        gapEnd++;
      }
      for (; reservedLeft > 0 && pfn < gapEnd; reservedLeft--, pfn++) {
        mm.setKind(pfn, K_RESERVED, 0);
      }
      pfn = fillGap(z, layout, pfn, gapEnd);
    }
  }

  private static int fillGap(Zone z, FreeBlockLayout layout, int pfn, int gapEnd) {
    MemMap mm = z.mm;
    int pbOrder = z.geo.pageblockOrder();
    while (pfn < gapEnd) {
      int order = Math.min(pbOrder, Integer.numberOfTrailingZeros(pfn));
      while (pfn + (1 << order) > gapEnd) {
        order--;
      }
      int mt = fillerType(layout.pageblockType[(pfn - z.startPfn) >>> pbOrder]);
      mm.setHead(pfn, K_ALLOC, mt, order);
      mm.fillTails(pfn, order, K_TAIL, mt);
      pfn += 1 << order;
    }
    return pfn;
  }

  /** The allocation type of filler pages in a pageblock of type pbType (see the class doc). */
  static int fillerType(int pbType) {
    return switch (pbType) {
      case HIGHATOMIC -> UNMOVABLE;
      case CMA, ISOLATE -> MOVABLE;
      default -> pbType;
    };
  }

  // ---------------------------------------------------------------- zoneinfo

  /**
   * Watermarks as printed include the boost (min_wmark_pages() = _watermark + boost); protection
   * entry j is lowmem_reserve[] of the j-th zone zoneinfo lists.
   */
  private static void applyZoneinfo(PageAllocator a, ZoneinfoData zi) {
    for (ZoneinfoData.Zone info : zi.zones()) {
      long[] reserve = new long[ZoneType.MAX_NR_ZONES];
      for (int j = 0; j < zi.zones().size(); j++) {
        reserve[zi.zones().get(j).zone().ordinal()] = info.protection().get(j);
      }
      Zone z = a.zone(info.zone());
      long boost = info.populated() ? info.boost() : 0;
      long[] wmarks = new long[Zone.NR_WMARK];
      if (info.populated()) {
        wmarks[Zone.WMARK_MIN] = info.min() - boost;
        wmarks[Zone.WMARK_LOW] = info.low() - boost;
        wmarks[Zone.WMARK_HIGH] = info.high() - boost;
        wmarks[Zone.WMARK_PROMO] = info.promoOrDerived() - boost;
      } else {
        System.arraycopy(z.watermark, 0, wmarks, 0, Zone.NR_WMARK);
      }
      z.lock.lock();
      try {
        z.overrideWatermarks(wmarks, boost, reserve);
      } finally {
        z.lock.unlock();
      }
    }
  }

  // ---------------------------------------------------------------- self-check

  /**
   * __free_one_page() merges a free block with a free buddy of the same order, at pageblock order
   * and above unless their types differ and one is not mergeable. A state with such a pair is one
   * no kernel reaches; the layout never produces one, and this guards that.
   */
  private static void checkNoMergeableBuddies(Zone z) {
    MemMap mm = z.mm;
    int pbOrder = z.geo.pageblockOrder();
    for (int o = 0; o < z.geo.maxPageOrder(); o++) {
      for (int mt = 0; mt < TYPES; mt++) {
        for (int pfn = z.freeListFirst(o, mt); pfn != NIL; pfn = mm.next[pfn]) {
          int buddy = pfn ^ (1 << o);
          if (z.isBuddyOfOrder(buddy, o) && wouldMerge(mt, mm.aux(buddy), o, pbOrder)) {
            throw new IllegalStateException(z + ": imported free blocks at pfn " + pfn + " and "
                + buddy + " of order " + o + " are buddies the kernel would have merged");
          }
        }
      }
    }
  }

  /** The merge condition of __free_one_page() for two free buddies of order o. */
  static boolean wouldMerge(int mt, int buddyMt, int o, int pbOrder) {
    return o < pbOrder
        || mt == buddyMt
        || (MigrateType.isMergeable(mt) && MigrateType.isMergeable(buddyMt));
  }
}
