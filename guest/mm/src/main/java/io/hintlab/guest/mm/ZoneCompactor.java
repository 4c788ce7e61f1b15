package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MemMap.NIL;

/**
 * One compaction run over one zone: compact_zone(), compact_finished() and the migrate_pages()
 * call with compaction_alloc()/compaction_free() (mm/compaction.c, mm/migrate.c). The caller holds
 * the zone's compaction run lock.
 *
 * <p>Capture (compaction_capture(): grabbing a page of the right order the moment it is freed)
 * is not modelled: direct compaction retries get_page_from_freelist() afterwards instead.
 */
final class ZoneCompactor {
  /** NR_MAX_MIGRATE_PAGES_RETRY: passes over the pages to migrate while some fail with EAGAIN. */
  static final int NR_MAX_MIGRATE_PAGES_RETRY = 10;

  private final Compaction c;
  private final PageAllocator a;
  private final Geometry geo;
  private final CompactControl cc;
  private final ZoneCompaction zc;
  private final int cpu;
  private final MigrateScanner migrateScanner;
  private final FreeScanner freeScanner;

  ZoneCompactor(Compaction c, CompactControl cc, int cpu) {
    this.c = c;
    this.a = c.allocator();
    this.geo = a.geo;
    this.cc = cc;
    this.zc = c.state(cc.zone);
    this.cpu = cpu;
    this.migrateScanner = new MigrateScanner(a, cc, zc, cpu);
    this.freeScanner = new FreeScanner(a, cc, zc, cpu);
  }

  /**
   * compact_zone(): unless compacting the whole zone, give up at once if the allocation would
   * succeed or compaction is unsuitable; then run the scanners from the cached (or zone-end)
   * positions, migrating each batch, until compact_finished() says otherwise; release the free
   * pages left over and count the scanned pages.
   */
  CompactResult run() {
    Zone z = cc.zone;
    int start = z.startPfn;
    int end = z.endPfn();
    boolean sync = cc.mode != MigrateMode.ASYNC;
    if (!cc.viaCompactMemory()) {
      CompactResult ret = c.suitAllocationOrder(z, cc.order, cc.highestZoneIdx, cc.allocFlags,
          cc.mode == MigrateMode.ASYNC);
      if (ret != CompactResult.CONTINUE) {
        return ret;
      }
    }
    if (zc.compactionRestarting(cc.order)) {
      c.skipHints().resetIsolationSuitable(zc);
    }
    setupScanners(start, end, sync);
    CompactResult ret = loop(sync);
    finish();
    return ret;
  }

  private void setupScanners(int start, int end, boolean sync) {
    if (cc.wholeZone) {
      cc.migratePfn = start;
      cc.freePfn = geo.pageblockStartPfn(end - 1);
      return;
    }
    cc.migratePfn = zc.cachedMigratePfn[sync ? 1 : 0];
    cc.freePfn = zc.cachedFreePfn;
    if (cc.freePfn < start || cc.freePfn >= end) {
      cc.freePfn = geo.pageblockStartPfn(end - 1);
      zc.cachedFreePfn = cc.freePfn;
    }
    if (cc.migratePfn < start || cc.migratePfn >= end) {
      cc.migratePfn = start;
      zc.cachedMigratePfn[0] = start;
      zc.cachedMigratePfn[1] = start;
    }
    if (cc.migratePfn <= zc.initMigratePfn) {
      cc.wholeZone = true;
    }
  }

  /** compact_zone()'s main loop; returns the result that ended it. */
  private CompactResult loop(boolean sync) {
    int lastMigratedPfn = NIL;
    boolean updateCached = !sync && zc.cachedMigratePfn[0] == zc.cachedMigratePfn[1];
    CompactResult ret;
    while ((ret = compactFinished()) == CompactResult.CONTINUE) {
      int iterationStart = cc.migratePfn;
      cc.finishPageblock = lastMigratedPfn != NIL
          && geo.pageblockStartPfn(lastMigratedPfn) == geo.pageblockStartPfn(iterationStart);
      boolean rescan;
      do {
        rescan = false;
        if (migrateScanner.isolateMigratepages() == MigrateScanner.Isolate.NONE) {
          if (updateCached) {
            zc.cachedMigratePfn[1] = zc.cachedMigratePfn[0];
          }
          break; // nothing isolated: go to check_drain
        }
        updateCached = false;
        lastMigratedPfn = Math.max(cc.zone.startPfn, geo.pageblockStartPfn(cc.migratePfn - 1));
        int err = migratePages();
        cc.nrMigratepages = 0;
        if (err != 0) {
          migrateScanner.putbackAll();
          if (err == -Errno.ENOMEM && !Compaction.scannersMet(cc, geo)) {
            return CompactResult.CONTENDED;
          }
          if (cc.migratePfn != geo.pageblockStartPfn(cc.migratePfn) && !cc.ignoreSkipHint
              && !cc.finishPageblock && cc.mode != MigrateMode.SYNC) {
            // scan the rest of the pageblock so that it gets skip-marked
            cc.finishPageblock = true;
            if (cc.order == geo.pageblockOrder()) {
              lastMigratedPfn = NIL; // draining pcp lists does not help THP now
            }
            rescan = true;
          }
        }
      } while (rescan);
      lastMigratedPfn = checkDrain(lastMigratedPfn);
    }
    return ret;
  }

  /**
   * check_drain: once the migrate scanner has left the cc->order-aligned block it migrated from,
   * flush this cpu's pcp lists (lru_add_drain_cpu_zone()) so that the freed pages merge and
   * compact_finished() sees them.
   */
  private int checkDrain(int lastMigratedPfn) {
    if (cc.order > 0 && lastMigratedPfn != NIL) {
      int currentBlockStart = cc.migratePfn & -(1 << cc.order);
      if (lastMigratedPfn < currentBlockStart) {
        a.drainPagesZone(cpu, cc.zone);
        return NIL;
      }
    }
    return lastMigratedPfn;
  }

  /**
   * migrate_pages(cc->migratepages, compaction_alloc, compaction_free): migrate every isolated
   * block, retrying -EAGAIN failures over up to NR_MAX_MIGRATE_PAGES_RETRY passes. No target
   * (-ENOMEM) stops at once. Blocks that were not migrated stay on cc->migratepages for the
   * caller to put back; their pages are counted in pgmigrate_fail.
   *
   * @return 0, the number of blocks not migrated, or -ENOMEM
   */
  private int migratePages() {
    PfnDeque list = cc.migratepages;
    PfnDeque failed = new PfnDeque();
    for (int pass = 0; pass < NR_MAX_MIGRATE_PAGES_RETRY && !list.isEmpty(); pass++) {
      PfnDeque retry = new PfnDeque();
      while (!list.isEmpty()) {
        int src = list.pollFirst();
        int rc = Migration.migrateIsolated(a, cpu, src, freeScanner);
        if (rc == -Errno.EAGAIN) {
          retry.addLast(src);
        } else if (rc == -Errno.ENOMEM) {
          countFailed(src);
          list.addFirst(src);
          moveAll(retry, list);
          moveAll(failed, list);
          return -Errno.ENOMEM;
        } else if (rc != 0) {
          countFailed(src);
          failed.addLast(src);
        }
      }
      moveAll(retry, list);
    }
    int nrFailed = failed.size() + list.size();
    for (int i = list.size(); i > 0; i--) {
      int src = list.pollFirst();
      countFailed(src); // still failing with -EAGAIN after the last pass
      failed.addLast(src);
    }
    moveAll(failed, list);
    return nrFailed;
  }

  private void countFailed(int src) {
    a.countEvent(cpu, VmEvent.PGMIGRATE_FAIL, 1L << a.mm.order(src));
  }

  private static void moveAll(PfnDeque from, PfnDeque to) {
    while (!from.isEmpty()) {
      to.addLast(from.pollFirst());
    }
  }

  /**
   * compact_finished() / __compact_finished(): COMPLETE or PARTIAL_SKIPPED when the scanners met
   * (resetting the cached positions); proactive compaction goes on while the zone's fragmentation
   * score is above the low mark; whole-zone compaction goes on; otherwise finish the current
   * pageblock, then SUCCESS as soon as a free block of cc->order or more is on the request's list,
   * on CMA's (for MOVABLE), or on a list the allocation could claim from.
   */
  private CompactResult compactFinished() {
    if (Compaction.scannersMet(cc, geo)) {
      zc.resetCachedPositions();
      if (cc.directCompaction) {
        zc.setBlockskipFlush(true);
      }
      return cc.wholeZone ? CompactResult.COMPLETE : CompactResult.PARTIAL_SKIPPED;
    }
    if (cc.proactiveCompaction) {
      int score = c.fragmentationScoreZone(cc.zone);
      return score > c.fragmentationScoreWmark(true)
          ? CompactResult.CONTINUE
          : CompactResult.SUCCESS;
    }
    if (cc.viaCompactMemory()) {
      return CompactResult.CONTINUE;
    }
    if (cc.migratePfn != geo.pageblockStartPfn(cc.migratePfn)) {
      return CompactResult.CONTINUE;
    }
    return suitablePageFree() ? CompactResult.SUCCESS : CompactResult.CONTINUE;
  }

  private boolean suitablePageFree() {
    Zone z = cc.zone;
    int mt = cc.migratetype;
    for (int order = cc.order; order < geo.nrPageOrders(); order++) {
      if (z.freeListFirst(order, mt) != NIL) {
        return true;
      }
      if (mt == MigrateType.MOVABLE && z.freeListFirst(order, MigrateType.CMA) != NIL) {
        return true;
      }
      if (z.findSuitableFallback(order, mt, true) >= 0) {
        return true;
      }
    }
    return false;
  }

  /**
   * compact_zone()'s end: release the isolated free pages left, let the cached free pfn move back
   * up to the highest of them, and count the scanned pages.
   */
  private void finish() {
    if (cc.nrFreepages > 0) {
      int freePfn = freeScanner.releaseFreeList();
      freePfn = geo.pageblockStartPfn(freePfn);
      if (freePfn > zc.cachedFreePfn) {
        zc.cachedFreePfn = freePfn;
      }
    }
    a.countEvent(cpu, VmEvent.COMPACT_MIGRATE_SCANNED, cc.totalMigrateScanned);
    a.countEvent(cpu, VmEvent.COMPACT_FREE_SCANNED, cc.totalFreeScanned);
  }
}
