package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MemMap.K_ALLOC;
import static io.hintlab.guest.mm.MemMap.K_BUDDY;
import static io.hintlab.guest.mm.MemMap.K_HOLE;
import static io.hintlab.guest.mm.MemMap.K_PCP;
import static io.hintlab.guest.mm.MemMap.K_RESERVED;
import static io.hintlab.guest.mm.MemMap.K_TAKEN;

/**
 * Page isolation at pageblock granularity (mm/page_isolation.c, v6.16+: isolation is a pageblock
 * bit of its own, so the block's type survives it; ranges need not be pageblock-aligned since
 * v5.19). An isolated pageblock's free pages sit on the ISOLATE lists, are not counted as free, and
 * never merge with other types' blocks; freeing into it bypasses the pcp lists.
 *
 * <p>Kernel-style results: 0 or {@code -Errno.EBUSY}. A failed isolation leaves no pageblock of
 * the range isolated. Callers are responsible for draining pcp lists (pages on them are not
 * PageBuddy, so {@link #testPagesIsolated} fails until they are drained).
 */
public final class PageIsolation {
  /** enum pb_isolate_mode. */
  public enum Mode {
    /** Memory offlining: HWPoison and offline pages are skipped by the test. */
    MEM_OFFLINE,
    /** CMA allocation: CMA pageblocks count as movable. */
    CMA_ALLOC,
    /** Everything else (alloc_contig_range for gigantic pages, page reporting). */
    OTHER
  }

  private final PageAllocator a;
  private final MemMap mm;
  private final Geometry geo;
  private final int nrPb;
  private long ebusy;

  /** Isolation over allocator a. */
  public PageIsolation(PageAllocator a) {
    this.a = a;
    this.mm = a.mm;
    this.geo = a.geo;
    this.nrPb = geo.pageblockNrPages();
  }

  /** How many times an isolation attempt returned -EBUSY. */
  public synchronized long ebusyCount() {
    return ebusy;
  }

  private synchronized int busy() {
    ebusy++;
    return -Errno.EBUSY;
  }

  // ---------------------------------------------------------------- public API

  /**
   * start_isolate_page_range(): isolate every pageblock [start, end) touches. The first and last
   * pageblocks go through {@link #isolateSinglePageblock}; inner ones through
   * set_migratetype_isolate(). On failure everything isolated here is undone.
   *
   * @param cpu the cpu used to migrate a movable block straddling the range's edge
   * @return 0, or -EBUSY if a pageblock was already isolated or holds unmovable pages
   * @throws IllegalArgumentException if the range is empty or not inside one zone
   */
  public int startIsolatePageRange(int cpu, int start, int end, Mode mode) {
    Zone z = zoneOfRange(start, end);
    int isolateStart = geo.pageblockStartPfn(start);
    int isolateEnd = geo.pageblockAlign(end);
    int ret = isolateSinglePageblock(cpu, z, isolateStart, mode, false, false);
    if (ret != 0) {
      return ret;
    }
    boolean skip = isolateStart == isolateEnd - nrPb;
    ret = isolateSinglePageblock(cpu, z, isolateEnd, mode, true, skip);
    if (ret != 0) {
      unsetMigratetypeIsolate(z, firstValid(z, isolateStart));
      return ret;
    }
    for (int pfn = isolateStart + nrPb; pfn < isolateEnd - nrPb; pfn += nrPb) {
      int page = firstValid(z, pfn);
      if (page >= 0 && setMigratetypeIsolate(z, page, mode, start, end) != 0) {
        undoIsolatePageRange(isolateStart, pfn);
        unsetMigratetypeIsolate(z, firstValid(z, isolateEnd - nrPb));
        return -Errno.EBUSY;
      }
    }
    return 0;
  }

  /** undo_isolate_page_range(): unisolate every isolated pageblock [start, end) touches. */
  public void undoIsolatePageRange(int start, int end) {
    Zone z = zoneOfRange(start, end);
    for (int pfn = geo.pageblockStartPfn(start); pfn < geo.pageblockAlign(end); pfn += nrPb) {
      int page = firstValid(z, pfn);
      if (page >= 0 && mm.isPageblockIsolated(page)) {
        unsetMigratetypeIsolate(z, page);
      }
    }
  }

  /**
   * test_pages_isolated(): every pageblock of the range is isolated and every pfn of [start, end)
   * lies in a free buddy block. Like the kernel it checks PageBuddy only, not the list.
   *
   * @return 0 or -EBUSY
   */
  public int testPagesIsolated(int start, int end, Mode mode) {
    Zone z = zoneOfRange(start, end);
    for (int pfn = start; pfn < end; pfn += nrPb) {
      int page = firstValid(z, pfn);
      if (page >= 0 && !mm.isPageblockIsolated(page)) {
        return -Errno.EBUSY;
      }
    }
    z.lock.lock();
    try {
      int pfn = start;
      while (pfn < end && mm.kind(pfn) == K_BUDDY) {
        pfn += 1 << mm.order(pfn);
      }
      return pfn < end ? -Errno.EBUSY : 0;
    } finally {
      z.lock.unlock();
    }
  }

  // ---------------------------------------------------------------- pageblock level

  /**
   * set_migratetype_isolate(): under the zone lock, -EBUSY if the pageblock is already isolated
   * ("somebody else raced and isolated it") or has unmovable pages in [start, end) ∩ block; else
   * move its free pages to the ISOLATE list and set the isolate bit.
   */
  int setMigratetypeIsolate(Zone z, int page, Mode mode, int start, int end) {
    z.lock.lock();
    try {
      if (mm.isPageblockIsolated(page)) {
        return busy();
      }
      int checkStart = Math.max(page, start);
      int checkEnd = Math.min(geo.pageblockEndPfn(page), end);
      if (hasUnmovablePages(z, checkStart, checkEnd, mode) >= 0) {
        return busy();
      }
      if (!moveFreepagesBlockIsolate(z, page, true)) {
        return busy();
      }
      z.nrIsolatePageblock++;
      return 0;
    } finally {
      z.lock.unlock();
    }
  }

  /**
   * unset_migratetype_isolate(): clear the isolate bit and give the free pages back to the block's
   * type. A free block of at least pageblock order whose buddy is not isolated is taken off and
   * put back through __putback_isolated_page() so that it merges again.
   */
  void unsetMigratetypeIsolate(Zone z, int page) {
    z.lock.lock();
    try {
      if (!mm.isPageblockIsolated(page)) {
        return;
      }
      int order = -1;
      boolean isolatedPage = false;
      if (mm.kind(page) == K_BUDDY) {
        order = mm.order(page);
        if (order >= geo.pageblockOrder() && order < geo.maxPageOrder()) {
          int buddy = page ^ (1 << order);
          if (z.isBuddyOfOrder(buddy, order) && !mm.isPageblockIsolated(buddy)) {
            isolatedPage = z.isolateFreePage(page, order) != 0;
          }
        }
      }
      if (!isolatedPage) {
        moveFreepagesBlockIsolate(z, page, false);
      } else {
        mm.setPageblockIsolate(page, false);
        z.putbackIsolatedPage(page, order, mm.getPfnblockMigratetype(page));
      }
      z.nrIsolatePageblock--;
    } finally {
      z.lock.unlock();
    }
  }

  /**
   * __move_freepages_block_isolate(): toggle the isolate bit of pfn's pageblock and move its free
   * pages between the block type's list and the ISOLATE list. A free buddy larger than the
   * pageblock (the block is its tail, or its start) is taken off and re-freed pageblock by
   * pageblock (split_large_buddy()), so each part lands on its own pageblock's list. Zone lock
   * held.
   *
   * @return false if the block already is in that state or straddles the zone boundary
   */
  boolean moveFreepagesBlockIsolate(Zone z, int pfn, boolean isolate) {
    if (isolate == mm.isPageblockIsolated(pfn)) {
      return false;
    }
    if (!z.prepMoveFreepagesBlock(pfn, false)) {
      return false;
    }
    int start = geo.pageblockStartPfn(pfn);
    if (geo.pageblockOrder() != geo.maxPageOrder()) {
      int head = findLargeBuddy(z, start);
      if (head == start && mm.kind(start) == K_BUDDY && mm.order(start) > geo.pageblockOrder()) {
        head = start; // we are the starting block of a larger buddy
      } else if (head == start) {
        head = -1;
      }
      if (head >= 0) {
        int order = mm.order(head);
        z.delFromFreeListAccounted(head, order, mm.aux(head));
        mm.setPageblockIsolate(start, isolate);
        z.splitLargeBuddy(head, order, 0);
        return true;
      }
    }
    int typeBits = mm.getPageblockTypeBits(start);
    int from = isolate ? typeBits : MigrateType.ISOLATE;
    int to = isolate ? MigrateType.ISOLATE : typeBits;
    z.moveFreepagesInBlock(start, from, to);
    mm.setPageblockIsolate(start, isolate);
    return true;
  }

  /**
   * find_large_buddy(): the head of a free buddy that starts before start and covers it, or start.
   */
  int findLargeBuddy(Zone z, int start) {
    int order = 0;
    int pfn = start;
    while (!(z.spans(pfn) && mm.kind(pfn) == K_BUDDY)) {
      if (++order > geo.maxPageOrder()) {
        return start;
      }
      pfn &= -(1 << order);
    }
    return pfn + (1 << mm.order(pfn)) > start ? pfn : start;
  }

  /**
   * has_unmovable_pages(): the first pfn of [start, end) (inside one pageblock) that could not be
   * migrated away, or -1. Free pages (buddy, pcp, taken off for a report) and movable pages
   * (LRU, movable_ops) are fine; reserved and unmovable allocations are not. ZONE_MOVABLE is
   * assumed movable; a CMA pageblock only in CMA_ALLOC mode.
   */
  int hasUnmovablePages(Zone z, int start, int end, Mode mode) {
    if (start >= end) {
      return -1;
    }
    if (mm.getPfnblockMigratetype(start) == MigrateType.CMA) {
      return mode == Mode.CMA_ALLOC ? -1 : start;
    }
    if (z.type == ZoneType.MOVABLE) {
      return -1;
    }
    for (int pfn = start; pfn < end; ) {
      int k = mm.kind(pfn);
      if (k == K_RESERVED) {
        return pfn;
      }
      if (k == K_BUDDY || k == K_PCP || k == K_TAKEN || k == K_ALLOC) {
        int nr = 1 << mm.order(pfn);
        if (k == K_ALLOC && !Zone.isMovableAllocation(mm.aux(pfn))) {
          return pfn;
        }
        pfn += nr;
        continue;
      }
      if (k == MemMap.K_TAIL && !Zone.isMovableAllocation(mm.aux(pfn))
          && mm.aux(pfn) != Zone.AUX_NONE) {
        return pfn; // the tail of an unmovable allocation that began before start
      }
      pfn++;
    }
    return -1;
  }

  /**
   * isolate_single_pageblock(): isolate the pageblock before or after boundary, then scan from
   * the MAX_ORDER-aligned start up to the boundary for an allocated block straddling it. A
   * movable one is migrated away (v5.19-v6.9 semantics, kept because the model's order-10 movable
   * allocations can straddle pageblocks); an unmovable one fails the isolation, which is undone.
   */
  int isolateSinglePageblock(int cpu, Zone z, int boundary, Mode mode, boolean before,
      boolean skipIsolation) {
    int block = before ? boundary - nrPb : boundary;
    int page = firstValid(z, block);
    if (page < 0) {
      return busy();
    }
    if (!skipIsolation) {
      int ret = setMigratetypeIsolate(z, page, mode, block, block + nrPb);
      if (ret != 0) {
        return ret;
      }
    }
    // Bail out when no block can straddle: the neighbour across the boundary is not online.
    int across = before ? boundary : boundary - 1;
    if (!z.spans(across) || mm.kind(across) == K_HOLE) {
      return 0;
    }
    // Scan from the MAX_ORDER-aligned start so a bigger block reaching into ours is seen.
    int pfn = Math.max(block & -geo.maxOrderNrPages(), z.startPfn);
    int retries = 0;
    while (pfn < boundary) {
      int k = mm.kind(pfn);
      if (k == K_BUDDY || k == K_PCP || k == K_TAKEN) {
        pfn += 1 << mm.order(pfn);
        continue;
      }
      if (k == K_ALLOC) {
        int nr = 1 << mm.order(pfn);
        if (pfn + nr <= boundary) {
          pfn += nr;
          continue;
        }
        if (Migration.isMovableBlock(mm, pfn) && retries++ < 5) {
          int rc = Migration.migrateBlock(a, cpu, pfn, MigrationTarget.allocator(a, cpu));
          if (rc == 0 || rc == -Errno.EAGAIN) {
            continue; // rescan from the same pfn: now free buddies (or retry)
          }
        }
        if (!skipIsolation) {
          unsetMigratetypeIsolate(z, page);
        }
        return busy();
      }
      pfn++;
    }
    return 0;
  }

  // ---------------------------------------------------------------- helpers

  /** __first_valid_page(): the first pfn of the pageblock at pfn that is in the zone, or -1. */
  private int firstValid(Zone z, int pfn) {
    int p = Math.max(pfn, z.startPfn);
    int limit = Math.min(geo.pageblockStartPfn(pfn) + nrPb, z.endPfn());
    for (; p < limit; p++) {
      if (mm.kind(p) != K_HOLE) {
        return p;
      }
    }
    return -1;
  }

  private Zone zoneOfRange(int start, int end) {
    if (start >= end) {
      throw new IllegalArgumentException("empty range [" + start + ", " + end + ")");
    }
    Zone z = a.zoneOf(start);
    if (z == null || !z.spans(end - 1)) {
      throw new IllegalArgumentException(
          "range [" + start + ", " + end + ") is not inside one populated zone");
    }
    return z;
  }
}
