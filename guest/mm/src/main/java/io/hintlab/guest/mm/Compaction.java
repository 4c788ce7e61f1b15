package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MemMap.K_ALLOC;
import static io.hintlab.guest.mm.MemMap.K_HOLE;
import static io.hintlab.guest.mm.MemMap.K_PCP;
import static io.hintlab.guest.mm.MemMap.K_TAKEN;

/**
 * Memory compaction for one allocator (mm/compaction.c, Linux v6.16/6.17): the migrate scanner
 * moves allocated movable pages from the bottom of a zone into free pages the free scanner takes
 * from its top, until a free block of the wanted order exists or the scanners meet. Get it with
 * {@link PageAllocator#compaction()}; {@link PageAllocator#setCompaction} chooses what runs by
 * itself (direct compaction in the allocation slow path, kcompactd).
 *
 * <p>Entry points: {@link #tryToCompactPages} (direct compaction), {@link #compactMemory}
 * (/proc/sys/vm/compact_memory), {@link Kcompactd#tick} (the kcompactd thread's loop, called by
 * the runtime every 500 ms; the model has no thread of its own), {@link #resetIsolationSuitable}
 * (kswapd going to sleep). Events go to the allocator's vmstat counters (compact_*, pgmigrate_*).
 *
 * <p>Thread-safety: runs over different zones may proceed in parallel; a zone is compacted by one
 * run at a time (direct compaction that finds its zone busy counts it as contended instead of
 * waiting). Owners' {@link MovableOps} callbacks are called during a run.
 */
public final class Compaction {
  /** COMPACT_CLUSTER_MAX (= SWAP_CLUSTER_MAX): pages isolated per migration batch. */
  public static final int COMPACT_CLUSTER_MAX = 32;

  private final PageAllocator a;
  private final ZoneCompaction[] zoneState;
  private final SkipHints skipHints;
  private final Kcompactd kcompactd;
  private final Coalescer coalescer;
  private volatile CompactionPolicy policy = CompactionPolicy.OFF;

  Compaction(PageAllocator a) {
    this.a = a;
    this.zoneState = new ZoneCompaction[ZoneType.MAX_NR_ZONES];
    for (Zone z : a.allZones()) {
      zoneState[z.type.ordinal()] = new ZoneCompaction(z);
    }
    this.skipHints = new SkipHints(this);
    this.kcompactd = new Kcompactd(this);
    this.coalescer = new Coalescer(a);
  }

  /** The policy in force. */
  public CompactionPolicy policy() {
    return policy;
  }

  void setPolicy(CompactionPolicy p) {
    if (p == null) {
      throw new IllegalArgumentException("policy must not be null (use CompactionPolicy.OFF)");
    }
    this.policy = p;
  }

  /** The compaction fields of a zone. */
  public ZoneCompaction state(Zone z) {
    return zoneState[z.type.ordinal()];
  }

  /** The kcompactd model (its tick is the runtime's to call). */
  public Kcompactd kcompactd() {
    return kcompactd;
  }

  /** The coalescing defragmenter the {@link CompactionPolicy#COALESCE} slow path uses. */
  public Coalescer coalescer() {
    return coalescer;
  }

  PageAllocator allocator() {
    return a;
  }

  SkipHints skipHints() {
    return skipHints;
  }

  // ---------------------------------------------------------------- suitability

  /** compact_gap(): the free pages compaction needs on top of the watermark, 2 &lt;&lt; order. */
  public static long compactGap(int order) {
    return 2L << order;
  }

  /**
   * __compaction_suitable(): enough free pages for the order-0 watermark plus compact_gap (and
   * low - min for costly orders), since migration targets are taken like order-0 allocations.
   */
  boolean compactionSuitableWatermark(Zone z, int order, long watermark, int idx, long free) {
    watermark += compactGap(order);
    if (order > Geometry.PAGE_ALLOC_COSTLY_ORDER) {
      watermark += z.watermark[Zone.WMARK_LOW] - z.watermark[Zone.WMARK_MIN];
    }
    return z.watermarkOk(0, watermark, idx, AllocFlags.ALLOC_CMA, free);
  }

  /**
   * compaction_suitable(): the watermark check above, and for costly orders a fragmentation index
   * above vm.extfrag_threshold: an index in [0, threshold] means the allocation fails for lack of
   * memory, which compaction cannot fix.
   *
   * @param watermark the watermark of the allocation (e.g. {@code z.wmarkPages(Zone.WMARK_MIN)})
   */
  public boolean compactionSuitable(Zone z, int order, long watermark, int highestZoneIdx) {
    boolean suitable =
        compactionSuitableWatermark(z, order, watermark, highestZoneIdx, z.nrFreePages);
    if (suitable && order > Geometry.PAGE_ALLOC_COSTLY_ORDER) {
      int fragindex = FragIndex.fragmentationIndex(z, order);
      if (fragindex >= 0 && fragindex <= policy.extfragThreshold()) {
        suitable = false;
      }
    }
    return suitable;
  }

  /**
   * compaction_suit_allocation_order(): SUCCESS if the allocation would succeed now, SKIPPED if
   * compaction is unlikely to help (for async costly non-CMA requests also when the non-CMA
   * free pages miss the gap), else CONTINUE. vm.defrag_mode is not modelled (off).
   */
  CompactResult suitAllocationOrder(Zone z, int order, int idx, int allocFlags, boolean async) {
    long free = z.nrFreePages;
    long watermark = z.wmarkPages(allocFlags & AllocFlags.ALLOC_WMARK_MASK);
    if (z.watermarkOk(order, watermark, idx, allocFlags, free)) {
      return CompactResult.SUCCESS;
    }
    if (order > Geometry.PAGE_ALLOC_COSTLY_ORDER && async
        && (allocFlags & AllocFlags.ALLOC_CMA) == 0
        && !z.watermarkOk(0, watermark + compactGap(order), idx, 0, free)) {
      return CompactResult.SKIPPED;
    }
    if (!compactionSuitable(z, order, watermark, idx)) {
      return CompactResult.SKIPPED;
    }
    return CompactResult.CONTINUE;
  }

  /** fragmentation_index() of mm/vmstat.c, in thousandths (-1000: a suitable block is free). */
  public int fragmentationIndex(Zone z, int order) {
    return FragIndex.fragmentationIndex(z, order);
  }

  /**
   * fragmentation_score_zone(): extfrag_for_order(zone, COMPACTION_HPAGE_ORDER), 0..100
   * (COMPACTION_HPAGE_ORDER = HPAGE_PMD_ORDER = pageblock_order in the model).
   */
  public int fragmentationScoreZone(Zone z) {
    return FragIndex.extfragForOrder(z, a.geo.pageblockOrder());
  }

  /**
   * fragmentation_score_node(): the zones' scores weighted by present pages over the node's
   * present pages + 1.
   */
  public int fragmentationScoreNode() {
    long nodePresent = 0;
    for (Zone z : a.zones()) {
      nodePresent += z.present;
    }
    long score = 0;
    for (Zone z : a.zones()) {
      score += (long) z.present * fragmentationScoreZone(z) / (nodePresent + 1);
    }
    return (int) score;
  }

  /**
   * fragmentation_score_wmark(): low = 100 - proactiveness; high = min(low + min(10, low / 2),
   * 100).
   */
  public int fragmentationScoreWmark(boolean low) {
    int wmarkLow = 100 - policy.proactiveness();
    int leeway = Math.min(10, wmarkLow / 2);
    return low ? wmarkLow : Math.min(wmarkLow + leeway, 100);
  }

  // ---------------------------------------------------------------- running

  /**
   * compact_zone() under the zone's run lock.
   *
   * @param tryLock give up with CONTENDED rather than wait for another run on the zone
   */
  CompactResult compactZone(int cpu, CompactControl cc, boolean tryLock) {
    ZoneCompaction zc = state(cc.zone);
    if (tryLock) {
      if (!zc.runLock.tryLock()) {
        return CompactResult.CONTENDED;
      }
    } else {
      zc.runLock.lock();
    }
    try {
      return new ZoneCompactor(this, cc, cpu).run();
    } finally {
      zc.runLock.unlock();
    }
  }

  /**
   * try_to_compact_pages(): compact the zones a gfp may use, highest first, until one says a page
   * of the order should be free. Zones deferred after failures are skipped (except at SYNC_FULL);
   * a synchronous run whose scanners met without success defers the zone.
   *
   * @return the best result over the zones (SKIPPED if the gfp may not compact: no __GFP_IO)
   */
  public CompactResult tryToCompactPages(int cpu, int gfp, int order, int allocFlags,
      CompactPriority prio) {
    a.checkCpuIndex(cpu);
    if (order <= 0 || order >= a.geo.nrPageOrders()) {
      throw new IllegalArgumentException(
          "order must be in [1, " + a.geo.nrPageOrders() + "), got " + order);
    }
    if (!gfpCompactionAllowed(gfp)) {
      return CompactResult.SKIPPED;
    }
    int idx = Gfp.zone(gfp).ordinal();
    CompactResult rc = CompactResult.SKIPPED;
    for (Zone z : a.zonelist[idx]) {
      ZoneCompaction zc = state(z);
      if (prio != CompactPriority.MIN && zc.compactionDeferred(order)) {
        rc = max(rc, CompactResult.DEFERRED);
        continue;
      }
      CompactControl cc = CompactControl.direct(z, order, gfp, prio, allocFlags, idx);
      CompactResult status = compactZone(cpu, cc, true);
      rc = max(rc, status);
      if (status == CompactResult.SUCCESS) {
        zc.compactionDeferReset(order, false);
        break;
      }
      if (prio != CompactPriority.ASYNC
          && (status == CompactResult.COMPLETE || status == CompactResult.PARTIAL_SKIPPED)) {
        zc.deferCompaction(order);
      }
    }
    return rc;
  }

  /** gfp_compaction_allowed(): compaction may do I/O-free migration only with __GFP_IO. */
  static boolean gfpCompactionAllowed(int gfp) {
    return (gfp & Gfp.__GFP_IO) != 0;
  }

  private static CompactResult max(CompactResult x, CompactResult y) {
    return x.compareTo(y) >= 0 ? x : y;
  }

  /**
   * __alloc_pages_direct_compact(): try_to_compact_pages(), then (unless skipped) count a stall
   * and retry the freelists; a page means success (the zone's deferral is reset), none a failure.
   *
   * @param result out: the compaction result
   * @return the allocated pfn, or -1
   */
  int directCompact(int cpu, int order, int gfp, int allocFlags, Zone[] zl, int idx, int mt,
      CompactPriority prio, CompactResult[] result) {
    if (order == 0) {
      return -1;
    }
    if (policy.coalesce()) {
      return directCoalesce(cpu, order, allocFlags, zl, idx, mt, result);
    }
    result[0] = tryToCompactPages(cpu, gfp, order, allocFlags, prio);
    if (result[0] == CompactResult.SKIPPED) {
      return -1;
    }
    a.countEvent(cpu, VmEvent.COMPACT_STALL, 1);
    int pfn = a.getPageFromFreelist(cpu, order, allocFlags, zl, idx, mt);
    if (pfn >= 0) {
      ZoneCompaction zc = state(a.zoneOf(pfn));
      zc.setBlockskipFlush(false);
      zc.compactionDeferReset(order, true);
      a.countEvent(cpu, VmEvent.COMPACT_SUCCESS, 1);
      return pfn;
    }
    a.countEvent(cpu, VmEvent.COMPACT_FAIL, 1);
    return -1;
  }

  /**
   * The coalescer in place of direct compaction: build one free block of the order in the first
   * zone of the zonelist where it can, then retry the freelists. Compaction's events are not
   * counted (the coalescer has its own {@link Coalescer#stats()}).
   */
  private synchronized int directCoalesce(int cpu, int order, int allocFlags, Zone[] zl, int idx,
      int mt, CompactResult[] result) {
    result[0] = CompactResult.NO_SUITABLE_PAGE;
    for (Zone z : zl) {
      if (coalescer.coalesce(cpu, z, order, 1) > 0) {
        result[0] = CompactResult.SUCCESS;
        break;
      }
    }
    return a.getPageFromFreelist(cpu, order, allocFlags, zl, idx, mt);
  }

  /**
   * The slow path's direct compaction for one allocation, or null when the policy has no direct
   * compaction.
   */
  SlowpathCompaction slowpath(int cpu, int order, int gfp, int allocFlags, Zone[] zl, int idx,
      int mt) {
    if (!policy.direct()) {
      return null;
    }
    return new SlowpathCompaction(this, cpu, order, gfp, allocFlags, zl, idx, mt);
  }

  /**
   * /proc/sys/vm/compact_memory (compact_nodes() → compact_node(pgdat, false)): compact every
   * populated zone whole, ignoring the skip hints, with MIGRATE_SYNC, whatever the policy.
   */
  public void compactMemory(int cpu) {
    a.checkCpuIndex(cpu);
    compactNode(cpu, false);
  }

  /**
   * compact_node(): order -1 over every populated zone; proactively (MIGRATE_SYNC_LIGHT) each zone
   * stops once its fragmentation score is at the low mark, and kcompactd's counters are bumped.
   */
  void compactNode(int cpu, boolean proactive) {
    for (Zone z : a.zones()) {
      CompactControl cc = CompactControl.node(z, proactive);
      compactZone(cpu, cc, false);
      if (proactive) {
        a.countEvent(cpu, VmEvent.COMPACT_DAEMON_MIGRATE_SCANNED, cc.totalMigrateScanned);
        a.countEvent(cpu, VmEvent.COMPACT_DAEMON_FREE_SCANNED, cc.totalFreeScanned);
      }
    }
  }

  /**
   * reset_isolation_suitable(): what kswapd does when it goes to sleep: clear the skip hints of
   * every zone whose direct compaction's scanners met since.
   */
  public void resetIsolationSuitable() {
    skipHints.resetIsolationSuitable();
  }

  // ---------------------------------------------------------------- helpers

  /** compact_scanners_met(): the free scanner is at or below the migrate scanner's pageblock. */
  static boolean scannersMet(CompactControl cc, Geometry geo) {
    return (cc.freePfn >> geo.pageblockOrder()) <= (cc.migratePfn >> geo.pageblockOrder());
  }

  /** pageblock_pfn_to_page() != NULL: [start, end) lies in the zone and is online. */
  static boolean pageblockInZone(Zone z, int start, int end) {
    return z.spans(start) && z.spans(end - 1) && z.mm.kind(start) != K_HOLE;
  }

  /**
   * The head of the block (allocated, pcp or taken) that pfn belongs to, pfn itself for a head,
   * or -1 (free pages, holes, reserved pages). compound_head() for the model's blocks.
   */
  static int headOf(MemMap mm, Geometry geo, int pfn) {
    int k = mm.kind(pfn);
    if (k == K_ALLOC || k == K_PCP || k == K_TAKEN) {
      return pfn;
    }
    if (k != MemMap.K_TAIL) {
      return -1;
    }
    for (int o = 1; o < geo.nrPageOrders(); o++) {
      int h = pfn & -(1 << o);
      int hk = mm.kind(h);
      if ((hk == K_ALLOC || hk == K_PCP || hk == K_TAKEN) && mm.order(h) >= o) {
        return h;
      }
    }
    return -1;
  }
}
