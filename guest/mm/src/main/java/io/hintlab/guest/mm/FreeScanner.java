package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MemMap.K_ALLOC;
import static io.hintlab.guest.mm.MemMap.K_BUDDY;
import static io.hintlab.guest.mm.MemMap.K_TAIL;
import static io.hintlab.guest.mm.MemMap.K_TAKEN;

/**
 * Compaction's free scanner and migration targets (mm/compaction.c isolate_freepages(),
 * isolate_freepages_block(), compaction_alloc(), compaction_free(), release_free_list()): walks
 * the zone downward a pageblock at a time from cc->free_pfn, taking free buddies of MOVABLE and
 * CMA pageblocks off the free lists with __isolate_free_page() (so they become TAKEN blocks on
 * cc->freepages[order]) until there are as many free pages as pages to migrate.
 *
 * <p>Not modelled: fast_isolate_freepages() (the reverse free-list search in the top quarter of
 * the scan space), a heuristic that reorders free lists.
 */
final class FreeScanner implements MigrationTarget {
  private final PageAllocator a;
  private final MemMap mm;
  private final Geometry geo;
  private final CompactControl cc;
  private final ZoneCompaction zc;
  private final int cpu;
  /** isolate_freepages_block()'s *start_pfn out-parameter. */
  private int blockPfn;

  FreeScanner(PageAllocator a, CompactControl cc, ZoneCompaction zc, int cpu) {
    this.a = a;
    this.mm = a.mm;
    this.geo = a.geo;
    this.cc = cc;
    this.zc = zc;
    this.cpu = cpu;
  }

  /**
   * suitable_migration_target(): not a block whose first page is a free buddy of the requested
   * order (or a pageblock, for whole-zone compaction); a MOVABLE or CMA block unless SYNC_FULL.
   */
  boolean suitableMigrationTarget(int pfn) {
    if (mm.kind(pfn) == K_BUDDY) {
      int order = cc.order > 0 ? cc.order : geo.pageblockOrder();
      if (mm.order(pfn) >= order) {
        return false;
      }
    }
    if (cc.ignoreBlockSuitable) {
      return true;
    }
    return MigrateType.isMovable(mm.getPfnblockMigratetype(pfn));
  }

  /** update_pageblock_skip(): skip-mark a fully scanned block; pull the cached free pfn down. */
  private void updatePageblockSkip(int page, int pfn) {
    mm.setPageblockSkip(page, true);
    if (pfn < zc.cachedFreePfn) {
      zc.cachedFreePfn = pfn;
    }
  }

  /**
   * isolate_freepages(): scan pageblocks downward from cc->free_pfn while they lie above the
   * migrate scanner's pageblock; in suitable, not skip-marked blocks isolate free pages. ASYNC
   * strides COMPACT_CLUSTER_MAX pages at first, doubling while a block yields nothing.
   */
  void isolateFreepages() {
    Zone z = cc.zone;
    int nr = geo.pageblockNrPages();
    int isolateStart = cc.freePfn;
    int blockStart = geo.pageblockStartPfn(isolateStart);
    int blockEnd = Math.min(blockStart + nr, z.endPfn());
    int lowPfn = geo.pageblockEndPfn(cc.migratePfn);
    int stride = cc.mode == MigrateMode.ASYNC ? Compaction.COMPACT_CLUSTER_MAX : 1;
    for (; blockStart >= lowPfn;
        blockEnd = blockStart, blockStart -= nr, isolateStart = blockStart) {
      if (!Compaction.pageblockInZone(z, blockStart, blockEnd)
          || !suitableMigrationTarget(blockStart)
          || (!cc.ignoreSkipHint && mm.isPageblockSkip(blockStart))) {
        continue;
      }
      int nrIsolated = isolateFreepagesBlock(isolateStart, blockEnd, stride);
      isolateStart = blockPfn;
      if (isolateStart == blockEnd) {
        updatePageblockSkip(blockStart, blockStart - nr);
      }
      if (cc.nrFreepages >= cc.nrMigratepages) {
        if (isolateStart >= blockEnd) {
          isolateStart = blockStart - nr; // restart at the previous pageblock next time
        }
        break;
      } else if (isolateStart < blockEnd) {
        break; // isolation failed early (watermark): do not go on
      }
      stride = nrIsolated > 0 ? 1 : Math.min(Compaction.COMPACT_CLUSTER_MAX, stride << 1);
    }
    cc.freePfn = isolateStart;
  }

  /**
   * isolate_freepages_block() (not strict): take the free buddies of [start, end) with
   * __isolate_free_page() until enough are isolated; stops when the watermark check fails.
   * Leaves where it stopped in {@link #blockPfn}.
   *
   * @return pages isolated
   */
  private int isolateFreepagesBlock(int start, int end, int stride) {
    long nrScanned = 0;
    int total = 0;
    int pfn = start;
    Zone z = cc.zone;
    z.lock.lock();
    try {
      for (; pfn < end; pfn += stride) {
        nrScanned++;
        int k = mm.kind(pfn);
        if (k == K_ALLOC && mm.order(pfn) > 0) {
          int nr = 1 << mm.order(pfn); // a compound page: jump over it
          if (pfn + nr <= end) {
            pfn += nr - 1;
            nrScanned += nr - 1;
          }
          continue;
        }
        if (k != K_BUDDY) {
          continue;
        }
        int order = mm.order(pfn);
        int isolated = z.isolateFreePage(pfn, order);
        if (isolated == 0) {
          break;
        }
        nrScanned += isolated - 1;
        total += isolated;
        cc.nrFreepages += isolated;
        cc.freepages[order].addLast(pfn);
        if (cc.nrMigratepages <= cc.nrFreepages) {
          pfn += isolated;
          break;
        }
        pfn += isolated - 1;
      }
    } finally {
      z.lock.unlock();
    }
    blockPfn = Math.min(pfn, end);
    cc.totalFreeScanned += nrScanned;
    if (total != 0) {
      a.countEvent(cpu, VmEvent.COMPACT_ISOLATED, total);
    }
    return total;
  }

  /**
   * compaction_alloc(): the first isolated free block of the smallest order that fits, split down
   * (the rest going back to cc->freepages); isolate_freepages() once when there is none. The
   * target comes back allocated (post_alloc_hook) with no owner.
   */
  @Override
  public int alloc(int order, int src) {
    boolean hasIsolatedPages = false;
    while (true) {
      int start = order;
      while (start < cc.freepages.length && cc.freepages[start].isEmpty()) {
        start++;
      }
      if (start == cc.freepages.length) {
        if (hasIsolatedPages) {
          return -1;
        }
        isolateFreepages();
        hasIsolatedPages = true;
        continue;
      }
      int pfn = cc.freepages[start].pollFirst();
      int aux = mm.aux(pfn);
      int size = 1 << start;
      while (start > order) {
        start--;
        size >>= 1;
        mm.setHead(pfn + size, K_TAKEN, aux, start);
        cc.freepages[start].addFirst(pfn + size);
      }
      mm.setHead(pfn, K_ALLOC, MigrateType.MOVABLE, order);
      mm.fillTails(pfn, order, K_TAIL, MigrateType.MOVABLE);
      mm.owner[pfn] = 0;
      cc.nrFreepages -= 1 << order;
      cc.nrMigratepages -= 1 << order;
      return pfn;
    }
  }

  /** compaction_free(): an unused target goes back to cc->freepages. */
  @Override
  public void free(int pfn, int order) {
    mm.setHead(pfn, K_TAKEN, mm.getPageblockTypeBits(pfn), order);
    mm.fillTails(pfn, order, K_TAIL, Zone.AUX_NONE);
    mm.owner[pfn] = 0;
    cc.freepages[order].addFirst(pfn);
    cc.nrFreepages += 1 << order;
    cc.nrMigratepages += 1 << order;
  }

  /**
   * release_free_list(): every isolated free page left is marked allocated and freed (so it goes
   * through the pcp lists as any freed page does).
   *
   * @return the highest pfn released, or -1 if there was none
   */
  int releaseFreeList() {
    int highPfn = -1;
    for (int order = 0; order < cc.freepages.length; order++) {
      PfnDeque list = cc.freepages[order];
      while (!list.isEmpty()) {
        int pfn = list.pollFirst();
        mm.setHead(pfn, K_ALLOC, MigrateType.MOVABLE, order);
        mm.fillTails(pfn, order, K_TAIL, MigrateType.MOVABLE);
        a.freeOwnedBlock(cpu, pfn, order);
        highPfn = Math.max(highPfn, pfn);
      }
    }
    cc.nrFreepages = 0;
    return highPfn;
  }
}
