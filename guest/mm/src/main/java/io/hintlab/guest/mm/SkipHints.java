package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MemMap.K_ALLOC;
import static io.hintlab.guest.mm.MemMap.K_BUDDY;
import static io.hintlab.guest.mm.MemMap.K_HOLE;
import static io.hintlab.guest.mm.MemMap.K_TAIL;

/**
 * Clearing compaction's pageblock skip hints (mm/compaction.c __reset_isolation_suitable(),
 * __reset_isolation_pfn(), reset_isolation_suitable()). Skip bits are set by the scanners when a
 * pageblock yields nothing; they are cleared only after a direct compaction's scanners met
 * (compact_blockskip_flush), when kswapd goes to sleep or when compaction restarts after the
 * maximum deferral.
 */
final class SkipHints {
  private final Compaction c;
  private final MemMap mm;
  private final Geometry geo;

  SkipHints(Compaction c) {
    this.c = c;
    this.mm = c.allocator().mm;
    this.geo = c.allocator().geo;
  }

  /**
   * reset_isolation_suitable(pgdat): every populated zone. A zone being compacted right now is
   * left alone (its flush flag stays set for next time).
   */
  void resetIsolationSuitable() {
    for (Zone z : c.allocator().zones()) {
      ZoneCompaction zc = c.state(z);
      if (zc.runLock.tryLock()) {
        try {
          resetIsolationSuitable(zc);
        } finally {
          zc.runLock.unlock();
        }
      }
    }
  }

  /**
   * __reset_isolation_suitable(): only if a full compaction finished since (the flush flag): walk
   * the zone from both ends at once, clearing the skip bit of pageblocks a sample shows to hold
   * LRU pages (migrate side) or free pages (free side), and restart the scanners at the first such
   * blocks. Run lock held.
   */
  void resetIsolationSuitable(ZoneCompaction zc) {
    if (!zc.takeBlockskipFlush()) {
      return;
    }
    Zone z = zc.zone;
    int nr = geo.pageblockNrPages();
    int migratePfn = z.startPfn;
    int freePfn = z.endPfn() - 1;
    int resetMigrate = freePfn;
    int resetFree = migratePfn;
    boolean sourceSet = false;
    boolean freeSet = false;
    for (; migratePfn < freePfn; migratePfn += nr, freePfn -= nr) {
      if (resetIsolationPfn(z, migratePfn, true, sourceSet) && migratePfn < resetMigrate) {
        sourceSet = true;
        resetMigrate = migratePfn;
        zc.initMigratePfn = resetMigrate;
        zc.cachedMigratePfn[0] = resetMigrate;
        zc.cachedMigratePfn[1] = resetMigrate;
      }
      if (resetIsolationPfn(z, freePfn, freeSet, true) && freePfn > resetFree) {
        freeSet = true;
        resetFree = freePfn;
        zc.cachedFreePfn = resetFree;
      }
    }
    if (resetMigrate >= resetFree) {
      zc.cachedMigratePfn[0] = migratePfn;
      zc.cachedMigratePfn[1] = migratePfn;
      zc.cachedFreePfn = freePfn;
    }
  }

  /**
   * __reset_isolation_pfn(): clear the skip bit of pfn's pageblock if a sample of every 8th page
   * finds an LRU page (checkSource) or a free buddy (checkTarget). A free-side-only check does not
   * pick a non-MOVABLE pageblock; persistent huge pages are never reset.
   *
   * @return whether the block may serve as a scanner start
   */
  private boolean resetIsolationPfn(Zone z, int pfn, boolean checkSource, boolean checkTarget) {
    if (!z.spans(pfn) || mm.kind(pfn) == K_HOLE) {
      return false;
    }
    int head = Compaction.headOf(mm, geo, pfn);
    if (head >= 0 && mm.kind(head) == K_ALLOC && mm.order(head) >= geo.pageblockOrder()) {
      return false; // pageblock_skip_persistent()
    }
    if (checkSource && checkTarget && !mm.isPageblockSkip(pfn)) {
      return true;
    }
    if (!checkSource && checkTarget
        && mm.getPfnblockMigratetype(pfn) != MigrateType.MOVABLE) {
      return false;
    }
    int page = Math.max(geo.pageblockStartPfn(pfn), z.startPfn);
    int endPage = Math.min(geo.pageblockEndPfn(page) - 1, z.endPfn() - 1);
    do {
      int k = mm.kind(page);
      boolean lru = (k == K_ALLOC || k == K_TAIL) && mm.aux(page) == MigrateType.MOVABLE;
      if ((checkSource && lru) || (checkTarget && k == K_BUDDY)) {
        mm.setPageblockSkip(page, false);
        return true;
      }
      page += 1 << Geometry.PAGE_ALLOC_COSTLY_ORDER;
    } while (page <= endPage);
    return false;
  }
}
