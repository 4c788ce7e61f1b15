package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MemMap.K_ALLOC;
import static io.hintlab.guest.mm.MemMap.K_BUDDY;
import static io.hintlab.guest.mm.MemMap.K_TAIL;

/**
 * Compaction's migration scanner (mm/compaction.c isolate_migratepages() and
 * isolate_migratepages_block()): walks the zone upward a pageblock at a time, isolating movable
 * allocated blocks (LRU pages: blocks allocated MOVABLE; non-LRU movable pages: blocks of a
 * movable_ops owner) onto cc->migratepages, up to COMPACT_CLUSTER_MAX pages per batch.
 *
 * <p>Not modelled: fast_find_migrateblock() (the free-list search for a source block, a heuristic
 * that reorders free lists), too_many_isolated() throttling, hugetlb and the dirty/writeback/
 * mapping checks (the model has no page cache). Pages on pcp lists, free blocks taken by other
 * users (page reporting) and unmovable or reserved pages fail isolation, as non-LRU pages do.
 */
final class MigrateScanner {
  private final PageAllocator a;
  private final MemMap mm;
  private final Geometry geo;
  private final CompactControl cc;
  private final ZoneCompaction zc;
  private final int cpu;

  MigrateScanner(PageAllocator a, CompactControl cc, ZoneCompaction zc, int cpu) {
    this.a = a;
    this.mm = a.mm;
    this.geo = a.geo;
    this.cc = cc;
    this.zc = zc;
    this.cpu = cpu;
  }

  /** isolate_migratepages() result. */
  enum Isolate { NONE, SUCCESS }

  /**
   * isolate_migratepages(): from cc->migrate_pfn, the first pageblock below the free scanner that
   * is not skip-marked and is a suitable source is scanned by {@link #isolateBlock}.
   */
  Isolate isolateMigratepages() {
    Zone z = cc.zone;
    int nr = geo.pageblockNrPages();
    int lowPfn = cc.migratePfn;
    int blockStart = Math.max(geo.pageblockStartPfn(lowPfn), z.startPfn);
    int blockEnd = geo.pageblockEndPfn(lowPfn);
    for (; blockEnd <= cc.freePfn;
        cc.migratePfn = lowPfn = blockEnd, blockStart = blockEnd, blockEnd += nr) {
      if (!Compaction.pageblockInZone(z, blockStart, blockEnd)) {
        continue;
      }
      if ((lowPfn == geo.pageblockStartPfn(lowPfn) || lowPfn == z.startPfn)
          && !isolationSuitable(blockStart)) {
        continue;
      }
      if (!suitableMigrationSource(blockStart)) {
        updateCachedMigrate(blockEnd);
        continue;
      }
      isolateBlock(lowPfn, blockEnd);
      break;
    }
    return cc.nrMigratepages > 0 ? Isolate.SUCCESS : Isolate.NONE;
  }

  /**
   * suitable_migration_source(): not a block of a persistent huge page; async direct compaction
   * only takes blocks of the request's type (MOVABLE requests: MOVABLE or CMA blocks).
   */
  private boolean suitableMigrationSource(int pfn) {
    if (pageblockSkipPersistent(pfn)) {
      return false;
    }
    if (cc.mode != MigrateMode.ASYNC || !cc.directCompaction) {
      return true;
    }
    int blockMt = mm.getPfnblockMigratetype(pfn);
    if (cc.migratetype == MigrateType.MOVABLE) {
      return MigrateType.isMovable(blockMt);
    }
    return blockMt == cc.migratetype;
  }

  /** pageblock_skip_persistent(): the pfn is in an allocated block of pageblock order or more. */
  private boolean pageblockSkipPersistent(int pfn) {
    int head = Compaction.headOf(mm, geo, pfn);
    return head >= 0 && mm.kind(head) == K_ALLOC && mm.order(head) >= geo.pageblockOrder();
  }

  /** isolation_suitable(): the skip hint is clear (or ignored). */
  private boolean isolationSuitable(int pfn) {
    return cc.ignoreSkipHint || !mm.isPageblockSkip(pfn);
  }

  /** test_and_set_skip(): set the skip bit; true if it already was set. */
  private boolean testAndSetSkip(int pfn) {
    if (cc.ignoreSkipHint) {
      return false;
    }
    boolean skip = mm.isPageblockSkip(pfn);
    if (!skip) {
      mm.setPageblockSkip(pfn, true);
    }
    return skip;
  }

  /** update_cached_migrate(): where async and sync compaction restart (the next pageblock end). */
  private void updateCachedMigrate(int pfn) {
    pfn = geo.pageblockEndPfn(pfn);
    if (pfn > zc.cachedMigratePfn[0]) {
      zc.cachedMigratePfn[0] = pfn;
    }
    if (cc.mode != MigrateMode.ASYNC && pfn > zc.cachedMigratePfn[1]) {
      zc.cachedMigratePfn[1] = pfn;
    }
  }

  /**
   * skip_isolation_on_order(): blocks of the target order or more are not worth moving (unless
   * compacting the whole zone), and nothing of pageblock order or more is.
   */
  private boolean skipIsolationOnOrder(int order) {
    if (!cc.viaCompactMemory() && order >= cc.order) {
      return true;
    }
    return order >= geo.pageblockOrder();
  }

  private static int blockEndPfn(int pfn, int order) {
    return (pfn + 1 + (1 << order) - 1) & -(1 << order);
  }

  /**
   * isolate_migratepages_block(): isolate the movable blocks of [lowPfn, endPfn), one pageblock.
   * Free buddies are jumped over; async direct compaction works in cc->order-aligned chunks and
   * gives up a chunk at its first failure. The pageblock is skip-marked when nothing was isolated
   * from it (or when it was rescanned to its end), and, as in the kernel, as soon as the first LRU
   * page is isolated from it, so that other compactors pass it by.
   */
  void isolateBlock(int lowPfn, int endPfn) {
    long nrScanned = 0;
    int nrIsolated = 0;
    int validPage = -1;
    boolean skipUpdated = false;
    boolean aborted = false;
    boolean skipOnFailure = cc.directCompaction && cc.mode == MigrateMode.ASYNC;
    int nextSkipPfn = skipOnFailure ? blockEndPfn(lowPfn, cc.order) : 0;
    cc.migratePfn = lowPfn;
    for (; lowPfn < endPfn; lowPfn++) {
      if (skipOnFailure && lowPfn >= nextSkipPfn) {
        if (nrIsolated != 0) {
          break;
        }
        nextSkipPfn = blockEndPfn(lowPfn, cc.order);
      }
      nrScanned++;
      if (validPage < 0
          && (lowPfn == geo.pageblockStartPfn(lowPfn) || lowPfn == cc.zone.startPfn)) {
        if (!isolationSuitable(lowPfn)) {
          lowPfn = endPfn;
          aborted = true;
          break;
        }
        validPage = lowPfn;
      }
      int k = mm.kind(lowPfn);
      if (k == K_BUDDY) {
        int order = mm.order(lowPfn);
        if (order > 0) {
          lowPfn += (1 << order) - 1;
          nrScanned += (1 << order) - 1;
        }
        continue;
      }
      boolean isolated = false;
      if (k == K_ALLOC) {
        int order = mm.order(lowPfn);
        if (order > 0 && skipIsolationOnOrder(order)) {
          // a compound page too large to be worth moving
          lowPfn += (1 << order) - 1;
          nrScanned += (1 << order) - 1;
        } else {
          int aux = mm.aux(lowPfn);
          if (aux == MemMap.AUX_MOVABLE_OPS) {
            isolated = Migration.isolate(a, lowPfn); // isolate_movable_ops_page()
          } else if (aux == MigrateType.MOVABLE && Migration.isolate(a, lowPfn)) {
            // an LRU folio taken off its LRU; the first one claims the pageblock
            if (!skipUpdated && validPage >= 0) {
              skipUpdated = true;
              if (testAndSetSkip(validPage) && !cc.finishPageblock) {
                Migration.putback(a, lowPfn);
                lowPfn = endPfn;
                aborted = true;
                break;
              }
            }
            isolated = true;
          }
        }
        if (isolated) {
          int nr = 1 << order;
          cc.migratepages.addFirst(lowPfn);
          lowPfn += nr - 1;
          cc.nrMigratepages += nr;
          nrIsolated += nr;
          nrScanned += nr - 1;
          if (cc.nrMigratepages >= Compaction.COMPACT_CLUSTER_MAX && !cc.finishPageblock) {
            ++lowPfn;
            break;
          }
          continue;
        }
      }
      // isolate_fail (tails, pcp pages, taken pages, unmovable or reserved pages, refusals)
      if (!skipOnFailure) {
        continue;
      }
      if (nrIsolated != 0) {
        putbackAll();
        nrIsolated = 0;
      }
      if (lowPfn < nextSkipPfn) {
        lowPfn = nextSkipPfn - 1;
        nextSkipPfn += 1 << cc.order;
      }
    }
    if (!aborted && lowPfn > endPfn) {
      lowPfn = endPfn;
    }
    if (lowPfn == endPfn && (nrIsolated == 0 || cc.finishPageblock)) {
      if (validPage >= 0 && !skipUpdated) {
        mm.setPageblockSkip(validPage, true);
      }
      updateCachedMigrate(lowPfn);
    }
    cc.totalMigrateScanned += nrScanned;
    if (nrIsolated != 0) {
      a.countEvent(cpu, VmEvent.COMPACT_ISOLATED, nrIsolated);
    }
    cc.migratePfn = lowPfn;
  }

  /** putback_movable_pages(&cc->migratepages). */
  void putbackAll() {
    while (!cc.migratepages.isEmpty()) {
      Migration.putback(a, cc.migratepages.pollFirst());
    }
    cc.nrMigratepages = 0;
  }
}
