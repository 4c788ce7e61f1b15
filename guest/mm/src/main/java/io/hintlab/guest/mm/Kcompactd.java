package io.hintlab.guest.mm;

/**
 * The kcompactd thread of the node as a tick the runtime calls every
 * {@value #HPAGE_FRAG_CHECK_INTERVAL_MSEC} ms (mm/compaction.c kcompactd(), kcompactd_do_work(),
 * wakeup_kcompactd(), should_proactive_compact_node()), with the bit of kswapd it needs: the
 * order kswapd was woken for (wakeup_kswapd()), which kswapd hands to kcompactd when it goes to
 * sleep (kswapd_try_to_sleep()). The model has no threads in guest/mm: a woken kcompactd runs at
 * the next tick.
 *
 * <p>What runs depends on the {@link CompactionPolicy}: woken work (compact for the order of a
 * failed allocation) and/or proactive compaction (when the node's fragmentation score is above
 * the high mark; backed off 64 ticks when a run did not lower the score).
 */
public final class Kcompactd {
  /** HPAGE_FRAG_CHECK_INTERVAL_MSEC: the proactive check interval, one tick. */
  public static final int HPAGE_FRAG_CHECK_INTERVAL_MSEC = 500;

  private final Compaction c;
  private final PageAllocator a;
  private int kswapdOrder;
  private int kswapdHighestZoneIdx = -1;
  private int maxOrder;
  private int highestZoneIdx;
  private int ticksToProactive = 1;

  Kcompactd(Compaction c) {
    this.c = c;
    this.a = c.allocator();
    this.highestZoneIdx = nrZones() - 1;
  }

  /** pgdat->nr_zones: one past the highest populated zone. */
  private int nrZones() {
    int n = 0;
    for (Zone z : a.zones()) {
      n = Math.max(n, z.type.ordinal() + 1);
    }
    return n;
  }

  /** pgdat->kcompactd_max_order: the order kcompactd was woken for, 0 if none. */
  public synchronized int requestedOrder() {
    return maxOrder;
  }

  /** wakeup_kswapd()'s bookkeeping: kswapd_order = max, kswapd_highest_zoneidx = max. */
  synchronized void wakeKswapd(int order, int highestZoneIdx) {
    kswapdOrder = Math.max(kswapdOrder, order);
    kswapdHighestZoneIdx = Math.max(kswapdHighestZoneIdx, highestZoneIdx);
  }

  /**
   * kswapd_try_to_sleep(): reset_isolation_suitable(), then wakeup_kcompactd() for the order
   * kswapd was woken for; kswapd's order is consumed.
   */
  void kswapdSleep() {
    c.resetIsolationSuitable();
    int order;
    int idx;
    synchronized (this) {
      order = kswapdOrder;
      idx = kswapdHighestZoneIdx < 0 ? nrZones() - 1 : kswapdHighestZoneIdx;
      kswapdOrder = 0;
      kswapdHighestZoneIdx = -1;
    }
    wakeup(order, idx);
  }

  /**
   * wakeup_kcompactd(): remember the largest order and the lowest zone index asked for (when the
   * policy has kcompactd wakeups). kcompactd_node_suitable() is checked when the work runs.
   */
  public synchronized void wakeup(int order, int highestZoneIdx) {
    if (order == 0 || !c.policy().kcompactdWakeups()) {
      return;
    }
    maxOrder = Math.max(maxOrder, order);
    this.highestZoneIdx = Math.min(this.highestZoneIdx, highestZoneIdx);
  }

  /**
   * One pass of kcompactd()'s loop, for 500 ms of time: woken work first (and the timeout back to
   * its default), else, when the timeout expires, proactive compaction if the node's
   * fragmentation score is above the high mark.
   *
   * @param cpu the cpu kcompactd runs on
   */
  public void tick(int cpu) {
    a.checkCpuIndex(cpu);
    CompactionPolicy p = c.policy();
    if (requestedOrder() > 0) {
      doWork(cpu);
      ticksToProactive = 1;
      return;
    }
    if (--ticksToProactive > 0) {
      return;
    }
    ticksToProactive = 1;
    if (p.proactive() && shouldProactiveCompactNode(p)) {
      int prevScore = c.fragmentationScoreNode();
      c.compactNode(cpu, true);
      if (c.fragmentationScoreNode() >= prevScore) {
        ticksToProactive = 1 << ZoneCompaction.COMPACT_MAX_DEFER_SHIFT; // no progress: back off
      }
    }
  }

  /** should_proactive_compact_node() (kswapd is never found running in the model). */
  private boolean shouldProactiveCompactNode(CompactionPolicy p) {
    return p.proactiveness() != 0 && c.fragmentationScoreNode() > c.fragmentationScoreWmark(false);
  }

  /**
   * kcompactd_do_work(): compact each zone up to the requested index for the requested order
   * (MIGRATE_SYNC_LIGHT, min watermark), skipping deferred and unsuitable zones; a run whose
   * scanners met drains the zone's pcp lists and defers it.
   */
  private void doWork(int cpu) {
    int order;
    int idx;
    synchronized (this) {
      order = maxOrder;
      idx = highestZoneIdx;
    }
    a.countEvent(cpu, VmEvent.COMPACT_DAEMON_WAKE, 1);
    for (int zoneId = 0; zoneId <= idx; zoneId++) {
      Zone z = a.zone(ZoneType.values()[zoneId]);
      if (!z.populated()) {
        continue;
      }
      ZoneCompaction zc = c.state(z);
      if (zc.compactionDeferred(order)
          || c.suitAllocationOrder(z, order, zoneId, AllocFlags.ALLOC_WMARK_MIN, false)
              != CompactResult.CONTINUE) {
        continue;
      }
      CompactControl cc = CompactControl.kcompactd(z, order, idx);
      CompactResult status = c.compactZone(cpu, cc, false);
      if (status == CompactResult.SUCCESS) {
        zc.compactionDeferReset(order, false);
      } else if (status == CompactResult.PARTIAL_SKIPPED || status == CompactResult.COMPLETE) {
        a.drainAllPages(z);
        zc.deferCompaction(order);
      }
      a.countEvent(cpu, VmEvent.COMPACT_DAEMON_MIGRATE_SCANNED, cc.totalMigrateScanned);
      a.countEvent(cpu, VmEvent.COMPACT_DAEMON_FREE_SCANNED, cc.totalFreeScanned);
    }
    synchronized (this) {
      if (maxOrder <= order) {
        maxOrder = 0;
      }
      if (highestZoneIdx >= idx) {
        highestZoneIdx = nrZones() - 1;
      }
    }
  }
}
