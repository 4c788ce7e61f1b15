package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MemMap.K_ALLOC;
import static io.hintlab.guest.mm.MemMap.K_BUDDY;
import static io.hintlab.guest.mm.MemMap.K_TAKEN;
import static io.hintlab.guest.mm.MemMap.NIL;

import java.util.Arrays;

/**
 * The targeted defragmenter of Marcelo Tosatti's 2005 coalesce_memory() experiment (linux-mm,
 * "Avoiding external fragmentation with a placement policy", mmigrate.c): start from the free
 * lists rather than scanning the zone. Walk the highest non-empty free lists below the target
 * order; for a free block, look at the naturally aligned block of the target order around it, and
 * if every busy page there is a movable allocated block, take the region's free blocks off the
 * free lists (extract_pages()), get targets elsewhere without blocking (the patch's nonblocking
 * migrate_onepage_nonblock(): no reclaim, no compaction), migrate the busy neighbours out, and
 * put the free blocks back so that the region merges into one free block of the target order.
 *
 * <p>Differences from the 2005 patch, which was "a bit crippled": the region is the aligned
 * would-be buddy block (the patch looked a fixed number of pages back and forth from the free
 * page, ignoring alignment); any pcp migratetype list is walked; a failed migration leaves the
 * neighbours already moved where they went instead of migrating them back.
 *
 * <p>Counters ({@link #stats()}) use compaction's vocabulary so that the two can be compared;
 * migrations are also counted in pgmigrate_success/fail. Not thread-safe: one caller at a time.
 */
public final class Coalescer {
  /** The patch's max_order_delta + 1: free blocks below this order are not starting points. */
  static final int MIN_START_ORDER = 3;
  /** Targets: movable, no reclaim, no compaction, no reserves (nonblocking migration). */
  static final int TARGET_GFP =
      (Gfp.GFP_HIGHUSER_MOVABLE | Gfp.__GFP_NOWARN | Gfp.__GFP_NOMEMALLOC) & ~Gfp.__GFP_RECLAIM;

  /**
   * What the coalescer did since it was created.
   *
   * @param runs calls of {@link #coalesce}
   * @param candidates free blocks whose region was examined
   * @param success regions turned into a free block of the target order (compact_success)
   * @param fail regions examined but not coalesced (compact_fail)
   * @param scanned pages examined (compact_migrate_scanned)
   * @param isolated free pages taken off the lists plus pages isolated to move
   *     (compact_isolated)
   * @param migrated pages migrated (pgmigrate_success)
   * @param migrateFailed pages that failed to migrate (pgmigrate_fail)
   */
  public record Stats(long runs, long candidates, long success, long fail, long scanned,
      long isolated, long migrated, long migrateFailed) {}

  private final PageAllocator a;
  private final MemMap mm;
  private final Geometry geo;
  private long runs;
  private long candidates;
  private long success;
  private long fail;
  private long scanned;
  private long isolated;
  private long migrated;
  private long migrateFailed;

  /** A coalescer over allocator a. */
  public Coalescer(PageAllocator a) {
    this.a = a;
    this.mm = a.mm;
    this.geo = a.geo;
  }

  /** The counters so far. */
  public Stats stats() {
    return new Stats(runs, candidates, success, fail, scanned, isolated, migrated, migrateFailed);
  }

  /**
   * coalesce_memory(zone, order): build up to maxBlocks free blocks of targetOrder, starting from
   * the free blocks of the highest orders below it.
   *
   * @param cpu the cpu whose pcp lists freed pages pass through
   * @param z the zone
   * @param targetOrder the order to build, in [1, MAX_PAGE_ORDER]
   * @param maxBlocks how many blocks to build at most (the patch stopped at the first)
   * @return blocks built
   */
  public int coalesce(int cpu, Zone z, int targetOrder, int maxBlocks) {
    a.checkCpuIndex(cpu);
    if (targetOrder < 1 || targetOrder > geo.maxPageOrder()) {
      throw new IllegalArgumentException(
          "targetOrder must be in [1, " + geo.maxPageOrder() + "], got " + targetOrder);
    }
    runs++;
    a.drainAllPages(z); // pages on pcp lists are neither free nor movable
    int built = 0;
    int lowest = Math.min(MIN_START_ORDER, targetOrder - 1);
    for (int order = targetOrder - 1; order >= lowest && built < maxBlocks; order--) {
      for (int pfn : freeBlocks(z, order)) {
        if (built >= maxBlocks) {
          break;
        }
        if (z.isBuddyOfOrder(pfn, order) && buildBlock(cpu, z, pfn, targetOrder)) {
          built++;
        }
      }
    }
    return built;
  }

  /** A snapshot of the free blocks of order on the UNMOVABLE, MOVABLE and RECLAIMABLE lists. */
  private int[] freeBlocks(Zone z, int order) {
    z.lock.lock();
    try {
      int n = 0;
      for (int mt = 0; mt < MigrateType.PCPTYPES; mt++) {
        n += z.freeListLength(order, mt);
      }
      int[] out = new int[n];
      int i = 0;
      for (int mt = 0; mt < MigrateType.PCPTYPES; mt++) {
        for (int pfn = z.freeListFirst(order, mt); pfn != NIL; pfn = mm.next[pfn]) {
          out[i++] = pfn;
        }
      }
      return out;
    } finally {
      z.lock.unlock();
    }
  }

  /**
   * One region: check, extract its free blocks, migrate its busy blocks out, put the free blocks
   * back. Returns whether the region is one free block of at least targetOrder now.
   */
  private boolean buildBlock(int cpu, Zone z, int free, int targetOrder) {
    candidates++;
    int start = free & -(1 << targetOrder);
    int end = start + (1 << targetOrder);
    int[] busy = busyBlocks(z, start, end);
    if (busy == null) {
      fail++;
      return false;
    }
    int[] taken = extractFreeBlocks(z, start, end);
    if (taken == null) {
      fail++;
      return false;
    }
    boolean moved = migrateOut(cpu, busy);
    a.drainPagesZone(cpu, z); // the freed neighbours go to the buddy lists and merge
    putBack(z, taken);
    boolean ok = moved && coveredByFreeBlock(z, start, targetOrder);
    if (ok) {
      success++;
    } else {
      fail++;
    }
    return ok;
  }

  /**
   * is_page_busy() over the region: the heads of its allocated blocks if every one is movable
   * (and every other page is in a free block), else null. No pageblock of it may be isolated.
   */
  private int[] busyBlocks(Zone z, int start, int end) {
    if (!z.spans(start) || !z.spans(end - 1)) {
      return null;
    }
    for (int p = start; p < end; p += geo.pageblockNrPages()) {
      if (mm.isPageblockIsolated(p)) {
        return null;
      }
    }
    int[] heads = new int[16];
    int n = 0;
    for (int p = start; p < end; ) {
      scanned++;
      int k = mm.kind(p);
      if (k == K_BUDDY) {
        p += 1 << mm.order(p);
        continue;
      }
      if (k != K_ALLOC || !Migration.isMovableBlock(mm, p) || p + (1 << mm.order(p)) > end) {
        return null; // pcp, taken, reserved, unmovable, or a block sticking out of the region
      }
      if (n == heads.length) {
        heads = Arrays.copyOf(heads, n * 2);
      }
      heads[n++] = p;
      p += 1 << mm.order(p);
    }
    return Arrays.copyOf(heads, n);
  }

  /**
   * extract_pages(): take every free block of the region off the free lists (TAKEN), so nothing in
   * the region is handed out while its neighbours move. Null (everything put back) if the
   * watermark check of __isolate_free_page() fails.
   */
  private int[] extractFreeBlocks(Zone z, int start, int end) {
    int[] taken = new int[16];
    int n = 0;
    z.lock.lock();
    try {
      for (int p = start; p < end; ) {
        int order = mm.order(p);
        if (mm.kind(p) == K_BUDDY) {
          if (z.isolateFreePage(p, order) == 0) {
            putBackLocked(z, Arrays.copyOf(taken, n));
            return null;
          }
          isolated += 1L << order;
          if (n == taken.length) {
            taken = Arrays.copyOf(taken, n * 2);
          }
          taken[n++] = p;
        }
        p += 1 << order;
      }
    } finally {
      z.lock.unlock();
    }
    return Arrays.copyOf(taken, n);
  }

  /**
   * Migrate every busy block into a target allocated beforehand (so that a target cannot be a page
   * just freed inside the region). Stops at the first failure.
   *
   * @return whether all moved
   */
  private boolean migrateOut(int cpu, int[] busy) {
    TargetPool pool = new TargetPool(geo.nrPageOrders());
    boolean ok = true;
    for (int src : busy) {
      int t = a.allocPages(cpu, mm.order(src), TARGET_GFP);
      if (t < 0) {
        ok = false;
        break;
      }
      pool.free(t, mm.order(src));
    }
    for (int i = 0; ok && i < busy.length; i++) {
      int src = busy[i];
      int nr = 1 << mm.order(src);
      isolated += nr;
      int rc = Migration.migrateBlock(a, cpu, src, pool);
      if (rc == 0) {
        migrated += nr;
      } else {
        migrateFailed += nr;
        ok = false;
      }
    }
    pool.release(a, cpu);
    return ok;
  }

  private void putBack(Zone z, int[] taken) {
    z.lock.lock();
    try {
      putBackLocked(z, taken);
    } finally {
      z.lock.unlock();
    }
  }

  /** moveback_to_freelist(): __putback_isolated_page() for each taken block (they merge). */
  private void putBackLocked(Zone z, int[] taken) {
    for (int p : taken) {
      if (mm.kind(p) == K_TAKEN) {
        z.putbackIsolatedPage(p, mm.order(p), mm.getPfnblockMigratetype(p));
      }
    }
  }

  /** Whether a free block of at least order covers the block of that order at start. */
  private boolean coveredByFreeBlock(Zone z, int start, int order) {
    for (int o = order; o < geo.nrPageOrders(); o++) {
      int h = start & -(1 << o);
      if (z.isBuddyOfOrder(h, mm.order(h)) && mm.order(h) >= o) {
        return true;
      }
    }
    return false;
  }

  /** Pre-allocated migration targets by order; unused ones are freed at the end. */
  private static final class TargetPool implements MigrationTarget {
    private final PfnDeque[] byOrder;

    TargetPool(int orders) {
      byOrder = new PfnDeque[orders];
      for (int o = 0; o < orders; o++) {
        byOrder[o] = new PfnDeque();
      }
    }

    @Override
    public int alloc(int order, int src) {
      return byOrder[order].isEmpty() ? -1 : byOrder[order].pollFirst();
    }

    @Override
    public void free(int pfn, int order) {
      byOrder[order].addFirst(pfn);
    }

    void release(PageAllocator a, int cpu) {
      for (int o = 0; o < byOrder.length; o++) {
        while (!byOrder[o].isEmpty()) {
          a.freeOwnedBlock(cpu, byOrder[o].pollFirst(), o);
        }
      }
    }
  }
}
