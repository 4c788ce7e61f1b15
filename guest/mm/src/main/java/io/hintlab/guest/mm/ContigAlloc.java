package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MemMap.K_ALLOC;
import static io.hintlab.guest.mm.MemMap.K_BUDDY;
import static io.hintlab.guest.mm.MemMap.K_HOLE;
import static io.hintlab.guest.mm.MemMap.K_RESERVED;
import static io.hintlab.guest.mm.MemMap.K_TAKEN;

import io.hintlab.guest.mm.PageIsolation.Mode;

/**
 * Contiguous allocation (mm/page_alloc.c alloc_contig_range() / alloc_contig_pages(),
 * CONFIG_CONTIG_ALLOC): isolate the range, drain the pcp lists, migrate movable pages out, check
 * that every page is free, take the free blocks, give back the excess head and tail, undo the
 * isolation. The range comes back as order-0 allocated pages (no __GFP_COMP), freed with {@link
 * #freeContigRange}.
 */
public final class ContigAlloc {
  /** __alloc_contig_migrate_range() gives up after this many passes without new isolations. */
  static final int MIGRATE_TRIES = 5;

  private final PageAllocator a;
  private final MemMap mm;
  private final PageIsolation isolation;
  private long success;
  private long fail;

  /** Contiguous allocation over a, sharing isolation (and its EBUSY count) with other users. */
  public ContigAlloc(PageAllocator a, PageIsolation isolation) {
    this.a = a;
    this.mm = a.mm;
    this.isolation = isolation;
  }

  /** Successful alloc_contig_range() calls. */
  public synchronized long successCount() {
    return success;
  }

  /** Failed alloc_contig_range() calls. */
  public synchronized long failCount() {
    return fail;
  }

  /**
   * alloc_contig_range(): allocate exactly [start, end) as order-0 pages.
   *
   * @param cpu the cpu doing the work (migration frees and allocations)
   * @param cma whether this is a CMA allocation (CMA pageblocks count as movable)
   * @return 0, or -EBUSY when a page could not be freed up or a pageblock could not be isolated,
   *     -ENOMEM when migration found no target
   * @throws IllegalArgumentException if the range is empty or not inside one zone
   */
  public int allocContigRange(int cpu, int start, int end, boolean cma) {
    Mode mode = cma ? Mode.CMA_ALLOC : Mode.OTHER;
    int ret = isolation.startIsolatePageRange(cpu, start, end, mode);
    if (ret != 0) {
      return count(ret);
    }
    Zone z = a.zoneOf(start);
    try {
      a.drainAllPages(z);
      ret = migrateRange(cpu, start, end);
      if (ret != 0 && ret != -Errno.EBUSY) {
        return count(ret);
      }
      // A free buddy may start before start: test and take from its head.
      int outerStart;
      z.lock.lock();
      try {
        outerStart = isolation.findLargeBuddy(z, start);
      } finally {
        z.lock.unlock();
      }
      if (isolation.testPagesIsolated(outerStart, end, mode) != 0) {
        return count(-Errno.EBUSY);
      }
      int outerEnd = isolateFreepagesRange(z, outerStart, end);
      if (outerEnd == 0) {
        return count(-Errno.EBUSY);
      }
      // Give back the excess head and tail (free_contig_range()).
      freeContigRange(cpu, outerStart, start - outerStart);
      freeContigRange(cpu, end, outerEnd - end);
      return count(0);
    } finally {
      isolation.undoIsolatePageRange(start, end);
    }
  }

  /**
   * alloc_contig_pages(): the first naturally aligned range of nrPages in the zones a
   * GFP_KERNEL|__GFP_MOVABLE-style request may use, highest zone first, whose pages are all
   * online, in one zone and not reserved, that alloc_contig_range() manages to take.
   *
   * @return the first pfn, or -1
   */
  public int allocContigPages(int cpu, int nrPages, ZoneType highest) {
    if (nrPages <= 0) {
      throw new IllegalArgumentException("nrPages must be > 0, got " + nrPages);
    }
    for (int i = highest.ordinal(); i >= 0; i--) {
      Zone z = a.zone(ZoneType.values()[i]);
      if (!z.populated()) {
        continue;
      }
      long pfn = alignUp(z.startPfn, nrPages);
      for (; pfn + nrPages <= z.endPfn(); pfn += nrPages) {
        if (rangeValidContig(z, (int) pfn, nrPages)
            && allocContigRange(cpu, (int) pfn, (int) pfn + nrPages, false) == 0) {
          return (int) pfn;
        }
      }
    }
    return -1;
  }

  /** free_contig_range(): free nr order-0 pages from pfn. */
  public void freeContigRange(int cpu, int pfn, int nr) {
    for (int i = 0; i < nr; i++) {
      a.freePages(cpu, pfn + i, 0);
    }
  }

  private static long alignUp(long v, int n) {
    // ALIGN() for a power of two, a plain round-up otherwise
    return (v + n - 1) / n * n;
  }

  /** pfn_range_valid_contig(): online, in the zone, not reserved. */
  private boolean rangeValidContig(Zone z, int start, int nr) {
    for (int pfn = start; pfn < start + nr; pfn++) {
      int k = mm.kind(pfn);
      if (!z.spans(pfn) || k == K_HOLE || k == K_RESERVED) {
        return false;
      }
    }
    return true;
  }

  /**
   * __alloc_contig_migrate_range(): migrate every movable block in [start, end) away, retrying
   * transient failures up to 5 times per block; -ENOMEM stops at once.
   */
  private int migrateRange(int cpu, int start, int end) {
    MigrationTarget target = MigrationTarget.allocator(a, cpu);
    int ret = 0;
    int pfn = start;
    // a block may begin before start (isolate_migratepages_range() starts at the block head)
    while (pfn > 0 && mm.kind(pfn) == MemMap.K_TAIL) {
      pfn--;
    }
    while (pfn < end) {
      int k = mm.kind(pfn);
      if (k == K_ALLOC && Migration.isMovableBlock(mm, pfn)) {
        int rc = -Errno.EAGAIN;
        for (int tries = 0; tries < MIGRATE_TRIES && rc == -Errno.EAGAIN; tries++) {
          rc = Migration.migrateBlock(a, cpu, pfn, target);
        }
        if (rc == -Errno.ENOMEM) {
          return rc;
        }
        if (rc != 0) {
          ret = -Errno.EBUSY;
          pfn++;
        }
        continue; // rescan pfn: it is free now (or retried)
      }
      pfn += k == K_ALLOC || k == K_BUDDY || k == MemMap.K_PCP || k == K_TAKEN
          ? 1 << mm.order(pfn) : 1;
    }
    return ret;
  }

  /**
   * isolate_freepages_range() in strict mode: take every free block from start on off the
   * (ISOLATE) free lists until end is covered, and split them into order-0 allocated pages
   * (split_free_pages()). Returns the pfn after the last block taken, which may lie beyond end,
   * or 0 (after putting everything back) if a pfn was not free.
   */
  private int isolateFreepagesRange(Zone z, int start, int end) {
    z.lock.lock();
    try {
      int pfn = start;
      while (pfn < end) {
        if (mm.kind(pfn) != K_BUDDY) {
          releaseTaken(z, start, pfn);
          return 0;
        }
        int order = mm.order(pfn);
        if (z.isolateFreePage(pfn, order) == 0) {
          releaseTaken(z, start, pfn);
          return 0;
        }
        pfn += 1 << order;
      }
      // The range is the caller's now, page by page; nobody can be told if it moved, so it is
      // not movable.
      for (int p = start; p < pfn; p++) {
        mm.setHead(p, K_ALLOC, MigrateType.UNMOVABLE, 0);
        mm.owner[p] = 0;
      }
      return pfn;
    } finally {
      z.lock.unlock();
    }
  }

  /** release_free_list(): put the blocks taken so far back. Zone lock held. */
  private void releaseTaken(Zone z, int start, int end) {
    for (int p = start; p < end; ) {
      int order = mm.order(p);
      z.putbackIsolatedPage(p, order, mm.getPfnblockMigratetype(p));
      p += 1 << order;
    }
  }

  private synchronized int count(int ret) {
    if (ret == 0) {
      success++;
    } else {
      fail++;
    }
    return ret;
  }
}
