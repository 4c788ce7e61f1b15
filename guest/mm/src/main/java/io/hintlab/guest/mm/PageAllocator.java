package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.AllocFlags.ALLOC_CMA;
import static io.hintlab.guest.mm.AllocFlags.ALLOC_CPUSET;
import static io.hintlab.guest.mm.AllocFlags.ALLOC_HIGHATOMIC;
import static io.hintlab.guest.mm.AllocFlags.ALLOC_KSWAPD;
import static io.hintlab.guest.mm.AllocFlags.ALLOC_MIN_RESERVE;
import static io.hintlab.guest.mm.AllocFlags.ALLOC_NOFRAGMENT;
import static io.hintlab.guest.mm.AllocFlags.ALLOC_NON_BLOCK;
import static io.hintlab.guest.mm.AllocFlags.ALLOC_NO_WATERMARKS;
import static io.hintlab.guest.mm.AllocFlags.ALLOC_OOM;
import static io.hintlab.guest.mm.AllocFlags.ALLOC_WMARK_HIGH;
import static io.hintlab.guest.mm.AllocFlags.ALLOC_WMARK_LOW;
import static io.hintlab.guest.mm.AllocFlags.ALLOC_WMARK_MASK;
import static io.hintlab.guest.mm.AllocFlags.ALLOC_WMARK_MIN;
import static io.hintlab.guest.mm.MemMap.K_ALLOC;
import static io.hintlab.guest.mm.MemMap.K_TAIL;
import static io.hintlab.guest.mm.MemMap.NIL;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The model of one NUMA node's page allocator: zones, free lists, per-cpu lists and the
 * allocation and free paths of mm/page_alloc.c (Linux v6.16/6.17).
 *
 * <p>A "cpu" is an index in [0, nrCpus): each allocating thread uses its own, as a kernel task
 * runs on one cpu with preemption disabled inside the allocator. Two threads must not use the same
 * cpu index at the same time (the per-cpu event counters are not atomic, as in the kernel).
 * Allocation and free are otherwise thread-safe: per-cpu lists are guarded by their own lock, the
 * buddy free lists by the zone lock.
 *
 * <p>The model has no page cache and no reclaim: an allocation that cannot be satisfied from free
 * memory fails (returns -1) after the slow path's watermark relaxations and the high-atomic
 * reserve release.
 */
public final class PageAllocator {
  final MmConfig cfg;
  final Geometry geo;
  final MemMap mm;
  /** All MAX_NR_ZONES zones by type; unpopulated ones span nothing. */
  final Zone[] zoneByType;
  /** Populated zones in zone-type order. */
  final List<Zone> zones;
  /** The same as an array, for the free path's zone lookup (no iterator per free). */
  private final Zone[] populatedZones;
  /** zonelist[highest_zoneidx]: populated zones at or below it, highest first. */
  final Zone[][] zonelist;
  final long[][] events;
  /** Events counted where no cpu is at hand (owner callbacks); summed into {@link #event}. */
  private final java.util.concurrent.atomic.AtomicLongArray sharedEvents =
      new java.util.concurrent.atomic.AtomicLongArray(VmEvent.values().length);
  final long minFreeKbytes;
  final boolean mobilityDisabled;
  final PageOwners owners = new PageOwners();
  volatile PageCopier copier = PageCopier.NONE;
  private volatile PageInitializer initializer = PageInitializer.NONE;
  /** Compaction's state and policy; created on first use (none: no compaction runs). */
  private volatile Compaction compaction;
  private final int thpOrder;
  private final java.util.concurrent.atomic.LongAdder kswapdWakeups =
      new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder allocFailures =
      new java.util.concurrent.atomic.LongAdder();
  private final Reclaim reclaim = new Reclaim();

  /**
   * Builds the node as the kernel leaves it at the end of boot: every pageblock MOVABLE, reserved
   * pages kept out, all other memory freed in MAX_ORDER-aligned chunks with FPI_TO_TAIL
   * (memblock_free_all()), watermarks, lowmem_reserve and pcp sizes computed.
   */
  public PageAllocator(MmConfig cfg) {
    this.cfg = cfg;
    this.geo = cfg.geometry();
    this.mm = new MemMap(geo, cfg.endPfn());
    this.thpOrder = cfg.thp() ? geo.pageblockOrder() : -1;
    this.zoneByType = new Zone[ZoneType.MAX_NR_ZONES];
    List<Zone> populated = new ArrayList<>();
    for (ZoneSpec spec : cfg.zones()) {
      Zone z = new Zone(spec.type(), mm, spec.startPfn(), spec.spannedPages());
      z.present = spec.spannedPages();
      z.managed = (long) spec.spannedPages() - spec.reservedPages();
      zoneByType[spec.type().ordinal()] = z;
      populated.add(z);
    }
    for (ZoneType t : ZoneType.values()) {
      if (zoneByType[t.ordinal()] == null) {
        zoneByType[t.ordinal()] = new Zone(t, mm, 0, 0);
      }
    }
    this.zones = Collections.unmodifiableList(populated);
    this.populatedZones = populated.toArray(new Zone[0]);
    this.zonelist = buildZonelists();
    this.events = new long[cfg.nrCpus()][VmEvent.values().length];
    // build_all_zonelists(): group by mobility only if there is enough memory for it
    long vmTotalPages = 0;
    for (Zone z : zones) {
      vmTotalPages += z.managed;
    }
    this.mobilityDisabled = vmTotalPages < (long) geo.pageblockNrPages() * MigrateType.TYPES;
    for (Zone z : zoneByType) {
      z.mobilityDisabled = mobilityDisabled;
      z.watermarkBoostFactor = cfg.watermarkBoostFactor();
      z.pcp = new PerCpuPages[cfg.nrCpus()];
      for (int c = 0; c < cfg.nrCpus(); c++) {
        z.pcp[c] = new PerCpuPages(c, z, thpOrder);
      }
    }
    for (ZoneSpec spec : cfg.zones()) {
      initZoneMemmap(zoneByType[spec.type().ordinal()], spec.reservedPages());
    }
    long minFree = cfg.minFreeKbytes();
    if (minFree < 0) {
      minFree = Watermarks.calculateMinFreeKbytes(zones, geo);
      if (cfg.thp()) {
        // init_per_zone_wmark_min() (postcore) sets the watermarks from the int_sqrt() value
        // before hugepage_init() (subsys) runs set_recommended_min_free_kbytes(), whose 5% cap
        // counts nr_free_buffer_pages() = managed - high_wmark_pages()
        Watermarks.setupPerZoneWmarks(zones, geo, minFree, cfg.watermarkScaleFactor());
        minFree = Watermarks.recommendedMinFreeKbytes(zones, geo, minFree);
      }
    }
    this.minFreeKbytes = minFree;
    Watermarks.setupPerZoneWmarks(zones, geo, minFree, cfg.watermarkScaleFactor());
    Watermarks.setupPerZoneLowmemReserve(zoneByType);
    for (Zone z : zoneByType) {
      Watermarks.setPagesetHighAndBatch(z, cfg);
    }
  }

  private Zone[][] buildZonelists() {
    Zone[][] lists = new Zone[ZoneType.MAX_NR_ZONES][];
    for (int hi = 0; hi < ZoneType.MAX_NR_ZONES; hi++) {
      List<Zone> l = new ArrayList<>();
      for (int i = hi; i >= 0; i--) {
        Zone z = zoneByType[i];
        if (z != null && z.populated()) {
          l.add(z);
        }
      }
      lists[hi] = l.toArray(new Zone[0]);
    }
    return lists;
  }

  /**
   * memmap_init_range() marks every pageblock MOVABLE; memblock_free_all() frees the managed pages
   * in the largest aligned chunks that fit, to the list tails.
   */
  private void initZoneMemmap(Zone z, int reserved) {
    for (int pfn = z.startPfn; pfn < z.endPfn(); pfn = geo.pageblockEndPfn(pfn)) {
      mm.setPageblockTypeBits(pfn, MigrateType.MOVABLE);
    }
    for (int pfn = z.startPfn; pfn < z.startPfn + reserved; pfn++) {
      mm.setKind(pfn, MemMap.K_RESERVED, 0);
    }
    int pfn = z.startPfn + reserved;
    int end = z.endPfn();
    z.lock.lock();
    try {
      while (pfn < end) {
        int order = Math.min(geo.maxPageOrder(), pfn == 0 ? 31 : Integer.numberOfTrailingZeros(pfn));
        while (pfn + (1L << order) > end) {
          order--;
        }
        z.splitLargeBuddy(pfn, order, Zone.FPI_TO_TAIL);
        pfn += 1 << order;
      }
    } finally {
      z.lock.unlock();
    }
  }

  // ---------------------------------------------------------------- accessors

  /** The configuration. */
  public MmConfig config() {
    return cfg;
  }

  /** The page geometry. */
  public Geometry geometry() {
    return geo;
  }

  /** The memory map. */
  public MemMap memMap() {
    return mm;
  }

  /** Populated zones in zone-type order. */
  public List<Zone> zones() {
    return zones;
  }

  /** All MAX_NR_ZONES zones, populated or not, in zone-type order (as /proc/zoneinfo lists them). */
  public List<Zone> allZones() {
    return List.of(zoneByType);
  }

  /** The zone of a type (possibly unpopulated). */
  public Zone zone(ZoneType t) {
    return zoneByType[t.ordinal()];
  }

  /** The populated zone spanning pfn, or null. */
  public Zone zoneOf(int pfn) {
    for (Zone z : populatedZones) {
      if (z.spans(pfn)) {
        return z;
      }
    }
    return null;
  }

  /** vm.min_free_kbytes in effect. */
  public long minFreeKbytes() {
    return minFreeKbytes;
  }

  /** page_group_by_mobility_disabled. */
  public boolean mobilityDisabled() {
    return mobilityDisabled;
  }

  /** The registry of movable page owners (workloads, the balloon). */
  public PageOwners owners() {
    return owners;
  }

  /** Installs the hook that copies page contents when a page migrates (guest RAM). */
  public void setPageCopier(PageCopier copier) {
    this.copier = copier == null ? PageCopier.NONE : copier;
  }

  /**
   * Installs the init_on_alloc initializer, called after every successful {@link #allocPages}
   * (null: {@link PageInitializer#NONE}).
   */
  public void setPageInitializer(PageInitializer initializer) {
    this.initializer = initializer == null ? PageInitializer.NONE : initializer;
  }

  /**
   * The node's compaction (created on first call, with {@link CompactionPolicy#OFF}): its
   * per-zone state, /proc/sys/vm/compact_memory and the kcompactd tick.
   */
  public Compaction compaction() {
    Compaction c = compaction;
    if (c == null) {
      synchronized (this) {
        c = compaction;
        if (c == null) {
          c = new Compaction(this);
          compaction = c;
        }
      }
    }
    return c;
  }

  /**
   * Chooses what compaction runs by itself: direct compaction in the allocation slow path,
   * kcompactd wakeups, proactive compaction ({@link CompactionPolicy}; default OFF).
   *
   * @return the compaction
   */
  public Compaction setCompaction(CompactionPolicy policy) {
    Compaction c = compaction();
    c.setPolicy(policy);
    return c;
  }

  /** Number of modelled cpus. */
  public int nrCpus() {
    return cfg.nrCpus();
  }

  /** The sum over cpus of an event counter. */
  public long event(VmEvent e) {
    long sum = sharedEvents.get(e.ordinal());
    for (long[] perCpu : events) {
      sum += perCpu[e.ordinal()];
    }
    return sum;
  }

  /** Adds to an event counter of cpu (for the parts of the model outside this class). */
  public void countEvent(int cpu, VmEvent e, long delta) {
    events[cpu][e.ordinal()] += delta;
  }

  /** Adds to an event counter from a context that has no cpu of its own (thread-safe). */
  public void countEventShared(VmEvent e, long delta) {
    sharedEvents.addAndGet(e.ordinal(), delta);
  }

  /** Allocations that failed (returned -1) since boot. */
  public long allocFailures() {
    return allocFailures.sum();
  }

  /** register_shrinker(): direct reclaim may call {@code s} from now on. */
  public void registerShrinker(Shrinker s) {
    reclaim.register(s);
  }

  /** unregister_shrinker(): reclaims that start afterwards do not call {@code s}. */
  public boolean unregisterShrinker(Shrinker s) {
    return reclaim.unregister(s);
  }

  /** register_oom_notifier(). */
  public void registerOomNotifier(OomNotifier n) {
    reclaim.register(n);
  }

  /** unregister_oom_notifier(). */
  public boolean unregisterOomNotifier(OomNotifier n) {
    return reclaim.unregister(n);
  }

  /** Entries into direct reclaim (the allocstall counters summed over zones). */
  public long allocStalls() {
    return reclaim.allocStalls.sum();
  }

  /** Objects the shrinkers were asked to scan (slabs_scanned). */
  public long slabsScanned() {
    return reclaim.slabsScanned.sum();
  }

  /** Pages direct reclaim got back from shrinkers. */
  public long reclaimedPages() {
    return reclaim.reclaimedPages.sum();
  }

  /** Calls of OOM notifiers (one per notifier per out_of_memory()). */
  public long oomNotifyCalls() {
    return reclaim.oomNotifyCalls.sum();
  }

  /** Pages OOM notifiers freed. */
  public long oomFreedPages() {
    return reclaim.oomFreedPages.sum();
  }

  /** Total free pages (NR_FREE_PAGES) over all zones; isolated free pages are not counted. */
  public long freePages() {
    long sum = 0;
    for (Zone z : zones) {
      sum += z.nrFreePages;
    }
    return sum;
  }

  // ---------------------------------------------------------------- allocation

  /**
   * alloc_pages(): allocate a block of 2^order pages on cpu.
   *
   * @param cpu the allocating cpu
   * @param order the order, in [0, NR_PAGE_ORDERS)
   * @param gfp GFP flags ({@link Gfp})
   * @return the first pfn of the block, or -1 when the allocation fails
   * @throws IllegalArgumentException for a bad cpu, order or gfp
   */
  public int allocPages(int cpu, int order, int gfp) {
    return allocPages(cpu, order, gfp, 0);
  }

  /**
   * alloc_pages() for an owned block: as {@link #allocPages(int, int, int)}, and the block's
   * owner word ({@link PageOwners#owner}) is recorded so that migration can tell the owner. A
   * block whose owner class is non-LRU movable becomes a movable_ops page (balloon pages).
   *
   * @param owner the owner word, or 0 for none
   * @return the first pfn of the block, or -1
   */
  public int allocPages(int cpu, int order, int gfp, int owner) {
    checkCpu(cpu);
    owners.checkRegistered(owner);
    if (order < 0 || order >= geo.nrPageOrders()) {
      throw new IllegalArgumentException(
          "order must be in [0, " + geo.nrPageOrders() + "), got " + order);
    }
    int highestIdx = Gfp.zone(gfp).ordinal();
    int mt = Gfp.migratetype(gfp);
    if (mobilityDisabled) {
      mt = MigrateType.UNMOVABLE; // gfp_migratetype(): page_group_by_mobility_disabled
    }
    Zone[] zl = zonelist[highestIdx];
    if (zl.length == 0) {
      allocFailures.increment();
      return -1;
    }
    // prepare_alloc_pages() + the fast path of __alloc_pages()
    int allocFlags = ALLOC_WMARK_LOW | allocFlagsNofragment(zl[0], gfp) | allocFlagsCma(mt);
    int pfn = getPageFromFreelist(cpu, order, allocFlags, zl, highestIdx, mt);
    if (pfn < 0) {
      pfn = allocPagesSlowpath(cpu, order, gfp, zl, highestIdx, mt);
    }
    if (pfn < 0) {
      allocFailures.increment();
      return -1;
    }
    initializer.initPages(pfn, order); // post_alloc_hook(): kernel_init_pages() if init_on_alloc
    if (owner != 0) {
      // The block is ours alone now: no list links it, so no lock is needed to label it.
      mm.owner[pfn] = owner;
      if (owners.isNonLru(owner)) {
        mm.setKind(pfn, K_ALLOC, MemMap.AUX_MOVABLE_OPS);
        mm.fillTails(pfn, order, K_TAIL, MemMap.AUX_MOVABLE_OPS);
      }
    }
    return pfn;
  }

  /**
   * alloc_flags_nofragment(): ALLOC_KSWAPD from the gfp, and on a single node ALLOC_NOFRAGMENT
   * when the preferred zone is Normal (there is a DMA32 zone to fall back to, so avoid
   * fragmenting Normal's pageblocks first).
   */
  private static int allocFlagsNofragment(Zone preferred, int gfp) {
    int flags = gfp & Gfp.__GFP_KSWAPD_RECLAIM;
    if (preferred.type == ZoneType.NORMAL) {
      flags |= ALLOC_NOFRAGMENT;
    }
    return flags;
  }

  /** gfp_to_alloc_flags_cma(): movable allocations may use CMA pageblocks. */
  private int allocFlagsCma(int mt) {
    return cfg.cma() && mt == MigrateType.MOVABLE ? ALLOC_CMA : 0;
  }

  /** gfp_to_alloc_flags(): the slow path's flags. */
  private int gfpToAllocFlags(int gfp, int order, int mt) {
    int flags = ALLOC_WMARK_MIN | ALLOC_CPUSET;
    flags |= gfp & (Gfp.__GFP_HIGH | Gfp.__GFP_KSWAPD_RECLAIM);
    if ((gfp & Gfp.__GFP_DIRECT_RECLAIM) == 0) {
      if ((gfp & Gfp.__GFP_NOMEMALLOC) == 0) {
        flags |= ALLOC_NON_BLOCK;
        if (order > 0) {
          flags |= ALLOC_HIGHATOMIC;
        }
      }
      if ((flags & ALLOC_MIN_RESERVE) != 0) {
        flags &= ~ALLOC_CPUSET;
      }
    }
    return flags | allocFlagsCma(mt);
  }

  /**
   * __alloc_pages_slowpath() without reclaim: retry at the min watermark with the reserves the
   * gfp allows; allocations that cannot reclaim stop there. The others go through the steps the
   * kernel takes when reclaim makes no progress: direct compaction before and after the "reclaim"
   * step when a compaction policy is installed ({@link SlowpathCompaction}), no retry for
   * __GFP_NORETRY or costly orders without __GFP_RETRY_MAYFAIL, and finally the HIGHATOMIC
   * reserve exhausted pageblock by pageblock before the (absent) OOM killer.
   */
  private int allocPagesSlowpath(int cpu, int order, int gfp, Zone[] zl, int idx, int mt) {
    int allocFlags = gfpToAllocFlags(gfp, order, mt);
    Compaction c = compaction;
    if (c != null && (allocFlags & ALLOC_KSWAPD) != 0) {
      c.kcompactd().wakeKswapd(order, idx); // wake_all_kswapds()
    }
    int pfn = getPageFromFreelist(cpu, order, allocFlags, zl, idx, mt);
    if (pfn >= 0) {
      return pfn;
    }
    SlowpathCompaction compact = c == null ? null : c.slowpath(cpu, order, gfp, allocFlags, zl,
        idx, mt);
    if (compact != null) {
      pfn = compact.first();
      if (pfn >= 0 || compact.noPage()) {
        return pfn;
      }
    }
    // "Caller is not willing to reclaim, we can't balance anything": GFP_ATOMIC and GFP_NOWAIT
    // fail here, leaving the HIGHATOMIC reserve alone (their watermark already counts it).
    if ((gfp & Gfp.__GFP_DIRECT_RECLAIM) == 0) {
      return -1;
    }
    boolean drained = false;
    while (true) {
      // __alloc_pages_direct_reclaim(): shrinkers are the model's only reclaim. With progress
      // and still no page, it unreserves a HIGHATOMIC pageblock and drains every cpu's lists
      // (reclaimed pages may sit there), once; without progress it skips that too.
      long progress = reclaim.tryToFreePages(cpu);
      if (progress > 0) {
        pfn = getPageFromFreelist(cpu, order, allocFlags, zl, idx, mt);
        if (pfn < 0 && !drained) {
          unreserveHighatomicPageblock(zl, mt, false);
          drainAllPages(null);
          drained = true;
          pfn = getPageFromFreelist(cpu, order, allocFlags, zl, idx, mt);
        }
        if (pfn >= 0) {
          return pfn;
        }
      }
      if (compact != null) {
        pfn = compact.retry();
        if (pfn >= 0) {
          return pfn;
        }
      }
      if ((gfp & Gfp.__GFP_NORETRY) != 0) {
        return -1;
      }
      if (order > Geometry.PAGE_ALLOC_COSTLY_ORDER && (gfp & Gfp.__GFP_RETRY_MAYFAIL) == 0) {
        return -1; // costly orders do not retry unless they may fail after trying hard
      }
      if (progress > 0) {
        continue; // should_reclaim_retry(): progress resets the no-progress count
      }
      // should_reclaim_retry(): after MAX_RECLAIM_RETRIES loops without progress, "before OOM,
      // exhaust highatomic_reserve" -- unreserve_highatomic_pageblock(ac, true), which may take
      // the last reserved pageblock, and retry after each one released.
      while (unreserveHighatomicPageblock(zl, mt, true)) {
        pfn = getPageFromFreelist(cpu, order, allocFlags, zl, idx, mt);
        if (pfn >= 0) {
          return pfn;
        }
      }
      if (!mayOom(order, gfp, idx)) {
        return -1;
      }
      // __alloc_pages_may_oom(): first a last try at the high watermark "to catch a parallel
      // OOM killing", then out_of_memory(), whose notifier chain counts as progress when it
      // freed pages. The model has no task to kill, so without it the allocation fails.
      pfn = getPageFromFreelist(cpu, order, ALLOC_WMARK_HIGH | ALLOC_CPUSET, zl, idx, mt);
      if (pfn >= 0) {
        return pfn;
      }
      if (reclaim.oomNotify(cpu) <= 0) {
        return -1;
      }
      // did_some_progress: "goto retry", which tries the free lists first
      pfn = getPageFromFreelist(cpu, order, allocFlags, zl, idx, mt);
      if (pfn >= 0) {
        return pfn;
      }
    }
  }

  /**
   * The checks of __alloc_pages_may_oom() that keep an allocation from invoking the OOM killer:
   * costly orders, __GFP_RETRY_MAYFAIL, and lowmem-only requests ("The OOM killer does not
   * needlessly kill tasks for lowmem").
   */
  private static boolean mayOom(int order, int gfp, int highestIdx) {
    return order <= Geometry.PAGE_ALLOC_COSTLY_ORDER && (gfp & Gfp.__GFP_RETRY_MAYFAIL) == 0
        && highestIdx >= ZoneType.NORMAL.ordinal();
  }

  /** unreserve_highatomic_pageblock(): the first zone of the zonelist that gives one back. */
  private static boolean unreserveHighatomicPageblock(Zone[] zl, int mt, boolean force) {
    for (Zone z : zl) {
      if (HighatomicReserve.unreserve(z, mt, force)) {
        return true;
      }
    }
    return false;
  }

  /**
   * get_page_from_freelist(): walk the zonelist; a zone above its high watermark is used at once,
   * otherwise (marking it ZONE_BELOW_HIGH) it must pass the watermark the flags ask for. With
   * ALLOC_NOFRAGMENT and no success anywhere, retry allowing fragmentation.
   */
  int getPageFromFreelist(int cpu, int order, int allocFlags, Zone[] zl, int idx, int mt) {
    while (true) {
      for (Zone z : zl) {
        boolean ok = false;
        if (!z.belowHigh) {
          if (z.watermarkFast(order, z.wmarkPages(Zone.WMARK_HIGH), idx, allocFlags)) {
            ok = true;
          } else {
            z.belowHigh = true;
          }
        }
        if (!ok) {
          long mark = z.wmarkPages(allocFlags & ALLOC_WMARK_MASK);
          if (!z.watermarkFast(order, mark, idx, allocFlags)
              && (allocFlags & ALLOC_NO_WATERMARKS) == 0) {
            continue;
          }
        }
        int pfn = rmqueue(cpu, z, order, allocFlags, mt);
        if (pfn >= 0) {
          if ((allocFlags & ALLOC_HIGHATOMIC) != 0) {
            HighatomicReserve.reserve(z, pfn, order);
          }
          return pfn;
        }
      }
      if ((allocFlags & ALLOC_NOFRAGMENT) == 0) {
        return -1;
      }
      allocFlags &= ~ALLOC_NOFRAGMENT;
    }
  }

  /** rmqueue(): pcp for pcp orders, else the buddy. */
  private int rmqueue(int cpu, Zone z, int order, int allocFlags, int mt) {
    PerCpuPages p = z.pcp[cpu];
    int pfn = -1;
    // The MOVABLE pcp list may hold CMA pages; allocations that may not use CMA skip it.
    if (p.allowedOrder(order)
        && (!cfg.cma() || (allocFlags & ALLOC_CMA) != 0 || mt != MigrateType.MOVABLE)) {
      pfn = rmqueuePcplist(p, z, order, mt, allocFlags);
    }
    if (pfn < 0) {
      pfn = rmqueueBuddy(z, order, allocFlags, mt);
    }
    if (pfn >= 0) {
      events[cpu][VmEvent.pgalloc(z.type).ordinal()] += 1L << order;
    }
    // A fragmenting fallback boosted the watermarks: wake kswapd now, as the node may be
    // balanced overall and kswapd would not wake by itself. Its work is kswapdBalance().
    if ((allocFlags & ALLOC_KSWAPD) != 0 && z.boostedWatermark) {
      z.boostedWatermark = false;
      kswapdWakeups.increment();
      Compaction c = compaction;
      if (c != null) {
        c.kcompactd().wakeKswapd(0, z.type.ordinal());
      }
    }
    return pfn;
  }

  /** kswapd wake-ups for a boosted watermark (rmqueue()'s ZONE_BOOSTED_WATERMARK path). */
  public long kswapdWakeups() {
    return kswapdWakeups.sum();
  }

  /** rmqueue_pcplist() / __rmqueue_pcplist(): pop the list head, refilling in bulk when empty. */
  private int rmqueuePcplist(PerCpuPages p, Zone z, int order, int mt, int allocFlags) {
    synchronized (p) {
      p.freeCount >>= 1;
      int pindex = p.orderToPindex(mt, order);
      int pfn = p.removeHead(pindex);
      if (pfn == NIL) {
        int batch = p.nrPcpAlloc(order);
        int alloced = p.rmqueueBulk(order, batch, pindex, mt, allocFlags);
        p.count += alloced << order;
        pfn = p.removeHead(pindex);
        if (pfn == NIL) {
          return -1;
        }
      }
      p.count -= 1 << order;
      prepNewPage(pfn, order, mt);
      return pfn;
    }
  }

  /** rmqueue_buddy(): HIGHATOMIC first for high-order atomic, then __rmqueue, then the reserve. */
  private int rmqueueBuddy(Zone z, int order, int allocFlags, int mt) {
    z.lock.lock();
    try {
      int pfn = -1;
      if ((allocFlags & ALLOC_HIGHATOMIC) != 0) {
        pfn = z.rmqueueSmallest(order, MigrateType.HIGHATOMIC);
      }
      if (pfn < 0) {
        int[] mode = z.rmqueueMode;
        mode[0] = Zone.RMQUEUE_NORMAL;
        pfn = z.rmqueue(order, mt, allocFlags, mode);
        if (pfn < 0 && (allocFlags & (ALLOC_OOM | ALLOC_NON_BLOCK)) != 0) {
          pfn = z.rmqueueSmallest(order, MigrateType.HIGHATOMIC);
        }
        if (pfn < 0) {
          return -1;
        }
      }
      prepNewPage(pfn, order, mt);
      return pfn;
    } finally {
      z.lock.unlock();
    }
  }

  /** prep_new_page(): the block is now allocated with migratetype mt. */
  private void prepNewPage(int pfn, int order, int mt) {
    mm.setHead(pfn, K_ALLOC, mt, order);
    mm.fillTails(pfn, order, K_TAIL, mt);
    mm.owner[pfn] = 0;
  }

  // ---------------------------------------------------------------- free

  /**
   * __free_pages(): free an allocated block on cpu. Orders the pcp does not hold go to the buddy;
   * a block in an isolated pageblock too; HIGHATOMIC and CMA blocks go to the MOVABLE pcp list.
   *
   * @throws IllegalArgumentException if pfn is not the head of an allocated block of that order
   */
  public void freePages(int cpu, int pfn, int order) {
    checkCpu(cpu);
    Zone z = pfn >= 0 && pfn < mm.nrPages ? zoneOf(pfn) : null;
    if (z == null || mm.kind(pfn) != K_ALLOC || mm.order(pfn) != order) {
      throw new IllegalArgumentException(
          "pfn " + pfn + " is not the head of an allocated block of order " + order);
    }
    mm.owner[pfn] = 0;
    freeFrozenPages(cpu, z, pfn, order);
  }

  /** Frees a block the allocator itself owns (a migrated-away source, an unused target). */
  void freeOwnedBlock(int cpu, int pfn, int order) {
    mm.owner[pfn] = 0;
    freeFrozenPages(cpu, zoneOf(pfn), pfn, order);
  }

  void checkCpuIndex(int cpu) {
    checkCpu(cpu);
  }

  private void freeFrozenPages(int cpu, Zone z, int pfn, int order) {
    PerCpuPages p = z.pcp[cpu];
    if (!p.allowedOrder(order)) {
      freeOnePage(cpu, z, pfn, order);
      return;
    }
    int mt = mm.getPfnblockMigratetype(pfn);
    if (mt >= MigrateType.PCPTYPES) {
      if (mt == MigrateType.ISOLATE) {
        freeOnePage(cpu, z, pfn, order);
        return;
      }
      mt = MigrateType.MOVABLE;
    }
    synchronized (p) {
      freeFrozenPageCommit(cpu, z, p, pfn, mt, order);
    }
  }

  /** free_one_page(): straight to the buddy, pageblock by pageblock. */
  private void freeOnePage(int cpu, Zone z, int pfn, int order) {
    z.lock.lock();
    try {
      z.splitLargeBuddy(pfn, order, 0);
    } finally {
      z.lock.unlock();
    }
    events[cpu][VmEvent.PGFREE.ordinal()] += 1L << order;
  }

  /**
   * free_frozen_page_commit(): add to the pcp list head; when count reaches high, drain a batch
   * (more after a run of frees) to the buddy, and clear ZONE_BELOW_HIGH once the zone is above
   * its high watermark again. Caller holds the pcp lock.
   */
  private void freeFrozenPageCommit(int cpu, Zone z, PerCpuPages p, int pfn, int mt, int order) {
    p.allocFactor >>= 1;
    events[cpu][VmEvent.PGFREE.ordinal()] += 1L << order;
    int pindex = p.orderToPindex(mt, order);
    p.addHead(pindex, pfn, order);
    p.count += 1 << order;
    int batch = p.batch;
    boolean freeHigh = false;
    if (order > 0 && order <= Geometry.PAGE_ALLOC_COSTLY_ORDER) {
      // High-order pages on pcp lists fragment memory: drain more when freeing without allocating.
      freeHigh = p.freeCount >= batch + p.highMin / 2
          && (p.flags & PerCpuPages.PCPF_PREV_FREE_HIGH_ORDER) != 0
          && ((p.flags & PerCpuPages.PCPF_FREE_HIGH_BATCH) == 0 || p.count >= batch);
      p.flags |= PerCpuPages.PCPF_PREV_FREE_HIGH_ORDER;
    } else if ((p.flags & PerCpuPages.PCPF_PREV_FREE_HIGH_ORDER) != 0) {
      p.flags &= ~PerCpuPages.PCPF_PREV_FREE_HIGH_ORDER;
    }
    if (p.freeCount < (batch << PerCpuPages.PCP_BATCH_SCALE_MAX)) {
      p.freeCount += 1 << order;
    }
    int high = p.nrPcpHigh(batch, freeHigh);
    if (p.count >= high) {
      p.freePcppagesBulk(p.nrPcpFree(batch, high, freeHigh), pindex);
      if (z.belowHigh
          && z.watermarkOk(0, z.wmarkPages(Zone.WMARK_HIGH), ZoneType.MOVABLE.ordinal(), 0)) {
        z.belowHigh = false;
      }
    }
  }

  // ---------------------------------------------------------------- draining

  /** drain_pages_zone(): empty cpu's lists of zone into the buddy. */
  public void drainPagesZone(int cpu, Zone z) {
    checkCpu(cpu);
    PerCpuPages p = z.pcp[cpu];
    int count;
    do {
      synchronized (p) {
        count = p.count;
        if (count > 0) {
          int toDrain = Math.min(count, p.batch << PerCpuPages.PCP_BATCH_SCALE_MAX);
          p.freePcppagesBulk(toDrain, 0);
          count -= toDrain;
        }
      }
    } while (count > 0);
  }

  /** drain_local_pages(): every zone's lists of one cpu. */
  public void drainLocalPages(int cpu) {
    for (Zone z : zones) {
      drainPagesZone(cpu, z);
    }
  }

  /** drain_all_pages(zone): every cpu's lists of one zone (all zones if null). */
  public void drainAllPages(Zone zone) {
    for (int c = 0; c < cfg.nrCpus(); c++) {
      if (zone == null) {
        drainLocalPages(c);
      } else {
        drainPagesZone(c, zone);
      }
    }
  }

  /**
   * The periodic part of refresh_cpu_vm_stats(): decay_pcp_high() on every pcp, so that pages
   * left on idle lists go back to the buddy over time. The model has no vmstat worker; callers
   * with a clock (the guest runtime) call this about once a second.
   */
  public void refreshCpuVmStats() {
    for (Zone z : zones) {
      for (PerCpuPages p : z.pcp) {
        synchronized (p) {
          int batch = p.batch;
          if (p.high > p.highMin) {
            p.high = Math.max(Math.max(p.count - (batch << PerCpuPages.PCP_BATCH_SCALE_MAX),
                p.high - (p.high >> 3)), p.highMin);
          }
          int toDrain = p.count - p.high;
          if (toDrain > 0) {
            p.freePcppagesBulk(toDrain, 0);
          }
        }
      }
    }
  }

  /**
   * What kswapd does in a model without reclaim: for every zone whose watermark was boosted by a
   * fragmenting fallback (ZONE_BOOSTED_WATERMARK), drop the boost as balance_pgdat() does once it
   * has finished; then, going to sleep, clear compaction's skip hints if a direct compaction asked
   * for it and wake kcompactd for the order kswapd was woken for.
   *
   * @return the number of zones whose boost was cleared
   */
  public int kswapdBalance() {
    int n = 0;
    for (Zone z : zones) {
      z.lock.lock();
      try {
        if (z.watermarkBoost != 0) {
          z.watermarkBoost = 0;
          z.boostedWatermark = false;
          n++;
        }
      } finally {
        z.lock.unlock();
      }
    }
    Compaction c = compaction;
    if (c != null) {
      c.kcompactd().kswapdSleep(); // kswapd_try_to_sleep(): skip hints, wake kcompactd
    }
    return n;
  }

  private void checkCpu(int cpu) {
    if (cpu < 0 || cpu >= cfg.nrCpus()) {
      throw new IllegalArgumentException("cpu must be in [0, " + cfg.nrCpus() + "), got " + cpu);
    }
  }
}
