package io.hintlab.guest.mm;

/**
 * {@code struct compact_control} (mm/internal.h): one compaction run over one zone: the request,
 * the two scanners' positions, the private lists of isolated free pages (per order) and isolated
 * pages to migrate, and what the run scanned.
 *
 * <p>Not thread-safe: a run belongs to the thread doing it.
 */
public final class CompactControl {
  /** The order of /proc/sys/vm/compact_memory and proactive compaction (is_via_compact_memory). */
  public static final int COMPACT_MEMORY_ORDER = -1;

  final Zone zone;
  /** The order a free page is wanted for, or -1 for whole-zone compaction. */
  final int order;
  final int gfp;
  /** gfp_migratetype() of the request. */
  final int migratetype;
  final int allocFlags;
  final int highestZoneIdx;
  final MigrateMode mode;
  final boolean directCompaction;
  final boolean proactiveCompaction;
  final boolean ignoreSkipHint;
  final boolean ignoreBlockSuitable;
  boolean wholeZone;
  /** Rescan the current pageblock to its end (set after a failed migration). */
  boolean finishPageblock;

  /** Where the free scanner (going down) resumes. */
  int freePfn;
  /** Where the migrate scanner (going up) resumes. */
  int migratePfn;
  long totalMigrateScanned;
  long totalFreeScanned;
  /** Pages on {@link #freepages}. */
  int nrFreepages;
  /** Pages isolated for migration and not yet given a target. */
  int nrMigratepages;
  /** cc->freepages[order]: TAKEN free blocks the free scanner isolated. */
  final PfnDeque[] freepages;
  /** cc->migratepages: heads of isolated allocated blocks. */
  final PfnDeque migratepages = new PfnDeque();

  private CompactControl(Zone zone, int order, int gfp, int allocFlags, int highestZoneIdx,
      MigrateMode mode, boolean direct, boolean proactive, boolean ignoreHints, boolean whole) {
    this.zone = zone;
    this.order = order;
    this.gfp = gfp;
    this.migratetype = Gfp.migratetype(gfp);
    this.allocFlags = allocFlags;
    this.highestZoneIdx = highestZoneIdx;
    this.mode = mode;
    this.directCompaction = direct;
    this.proactiveCompaction = proactive;
    this.ignoreSkipHint = ignoreHints;
    this.ignoreBlockSuitable = ignoreHints && direct;
    this.wholeZone = whole;
    this.freepages = new PfnDeque[zone.geo.nrPageOrders()];
    for (int o = 0; o < freepages.length; o++) {
      freepages[o] = new PfnDeque();
    }
  }

  /**
   * compact_zone_order()'s control: direct compaction for an allocation. SYNC_FULL (the minimum
   * priority) scans the whole zone, ignores the skip hints and takes targets from any pageblock.
   */
  static CompactControl direct(Zone zone, int order, int gfp, CompactPriority prio,
      int allocFlags, int highestZoneIdx) {
    boolean full = prio == CompactPriority.MIN;
    MigrateMode mode = prio == CompactPriority.ASYNC ? MigrateMode.ASYNC : MigrateMode.SYNC_LIGHT;
    return new CompactControl(zone, order, gfp, allocFlags, highestZoneIdx, mode, true, false,
        full, full);
  }

  /**
   * compact_node()'s control: order -1 over the whole zone ignoring skip hints; MIGRATE_SYNC for
   * compact_memory, MIGRATE_SYNC_LIGHT and the fragmentation-score stop for proactive compaction.
   */
  static CompactControl node(Zone zone, boolean proactive) {
    return new CompactControl(zone, COMPACT_MEMORY_ORDER, Gfp.GFP_KERNEL, 0,
        ZoneType.MAX_NR_ZONES - 1, proactive ? MigrateMode.SYNC_LIGHT : MigrateMode.SYNC, false,
        proactive, true, true);
  }

  /** kcompactd_do_work()'s control: the order kswapd asked for, MIGRATE_SYNC_LIGHT, min wmark. */
  static CompactControl kcompactd(Zone zone, int order, int highestZoneIdx) {
    return new CompactControl(zone, order, Gfp.GFP_KERNEL, AllocFlags.ALLOC_WMARK_MIN,
        highestZoneIdx, MigrateMode.SYNC_LIGHT, false, false, false, false);
  }

  /** The zone compacted. */
  public Zone zone() {
    return zone;
  }

  /** The requested order (-1 for whole-zone compaction). */
  public int order() {
    return order;
  }

  /** Pages the migrate scanner looked at. */
  public long migrateScanned() {
    return totalMigrateScanned;
  }

  /** Pages the free scanner looked at. */
  public long freeScanned() {
    return totalFreeScanned;
  }

  /** Where the migrate scanner stopped. */
  public int migratePfn() {
    return migratePfn;
  }

  /** Where the free scanner stopped. */
  public int freePfn() {
    return freePfn;
  }

  /** Whether the run is /proc/sys/vm/compact_memory-style (order -1). */
  boolean viaCompactMemory() {
    return order == COMPACT_MEMORY_ORDER;
  }
}
