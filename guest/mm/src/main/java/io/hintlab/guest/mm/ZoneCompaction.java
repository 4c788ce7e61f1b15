package io.hintlab.guest.mm;

import java.util.concurrent.locks.ReentrantLock;

/**
 * The compaction fields of {@code struct zone} (include/linux/mmzone.h, CONFIG_COMPACTION): where
 * the scanners restart, the deferral state and the skip-bit flush flag. The pageblock skip bits
 * themselves are in the {@link MemMap} pageblock bitmap.
 *
 * <p>Locking: a compaction run over the zone holds {@link #runLock} (the scanner positions and the
 * skip bits are written under it); the deferral counters and the flush flag are guarded by this
 * object's monitor, which is never held across a migration. The public accessors give a racy
 * snapshot, like reading the kernel's fields without the zone lock.
 */
public final class ZoneCompaction {
  /** COMPACT_MAX_DEFER_SHIFT: do not skip compaction more than 64 times. */
  public static final int COMPACT_MAX_DEFER_SHIFT = 6;

  final Zone zone;
  /** Held by the compaction run over this zone (one at a time). */
  final ReentrantLock runLock = new ReentrantLock();
  /** compact_cached_migrate_pfn[2]: [0] async, [1] sync. Out of the zone = not initialised. */
  final int[] cachedMigratePfn = new int[2];
  /** compact_cached_free_pfn. */
  int cachedFreePfn;
  /** compact_init_migrate_pfn: a migrate scan from at or below here is a whole-zone scan. */
  int initMigratePfn;
  /** compact_considered. */
  int considered;
  /** compact_defer_shift. */
  int deferShift;
  /** compact_order_failed. */
  int orderFailed;
  /** compact_blockskip_flush: clear the skip bits when kswapd next goes to sleep. */
  private boolean blockskipFlush;

  ZoneCompaction(Zone zone) {
    this.zone = zone;
  }

  /** compact_considered. */
  public synchronized int considered() {
    return considered;
  }

  /** compact_defer_shift. */
  public synchronized int deferShift() {
    return deferShift;
  }

  /** compact_order_failed. */
  public synchronized int orderFailed() {
    return orderFailed;
  }

  /** compact_blockskip_flush. */
  public synchronized boolean blockskipFlush() {
    return blockskipFlush;
  }

  synchronized void setBlockskipFlush(boolean flush) {
    blockskipFlush = flush;
  }

  /** Reads and clears compact_blockskip_flush. */
  synchronized boolean takeBlockskipFlush() {
    boolean f = blockskipFlush;
    blockskipFlush = false;
    return f;
  }

  /** compact_cached_free_pfn. */
  public int cachedFreePfn() {
    return cachedFreePfn;
  }

  /** compact_cached_migrate_pfn[sync ? 1 : 0]. */
  public int cachedMigratePfn(boolean sync) {
    return cachedMigratePfn[sync ? 1 : 0];
  }

  /** defer_compaction(): after a failure, skip the next 2^shift attempts at this order or above. */
  synchronized void deferCompaction(int order) {
    considered = 0;
    deferShift++;
    if (order < orderFailed) {
      orderFailed = order;
    }
    if (deferShift > COMPACT_MAX_DEFER_SHIFT) {
      deferShift = COMPACT_MAX_DEFER_SHIFT;
    }
  }

  /** compaction_deferred(): whether this attempt should be skipped; counts it. */
  synchronized boolean compactionDeferred(int order) {
    long deferLimit = 1L << deferShift;
    if (order < orderFailed) {
      return false;
    }
    if (++considered >= deferLimit) {
      considered = (int) deferLimit;
      return false;
    }
    return true;
  }

  /**
   * compaction_defer_reset(): after compaction made an allocation of order succeed (or should
   * have), stop deferring; orders up to it are no longer considered failing.
   */
  synchronized void compactionDeferReset(int order, boolean allocSuccess) {
    if (allocSuccess) {
      considered = 0;
      deferShift = 0;
    }
    if (order >= orderFailed) {
      orderFailed = order + 1;
    }
  }

  /** compaction_restarting(): retrying after the maximum deferral. */
  synchronized boolean compactionRestarting(int order) {
    if (order < orderFailed) {
      return false;
    }
    return deferShift == COMPACT_MAX_DEFER_SHIFT && considered >= 1 << deferShift;
  }

  /** reset_cached_positions(): both scanners back to their zone ends. Run lock held. */
  void resetCachedPositions() {
    cachedMigratePfn[0] = zone.startPfn;
    cachedMigratePfn[1] = zone.startPfn;
    cachedFreePfn = zone.geo.pageblockStartPfn(zone.endPfn() - 1);
  }
}
