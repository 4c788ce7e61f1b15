package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MemMap.K_BUDDY;
import static io.hintlab.guest.mm.MemMap.K_FREE_TAIL;
import static io.hintlab.guest.mm.MemMap.K_TAIL;
import static io.hintlab.guest.mm.MemMap.K_TAKEN;
import static io.hintlab.guest.mm.MemMap.NIL;
import static io.hintlab.guest.mm.MigrateType.CMA;
import static io.hintlab.guest.mm.MigrateType.HIGHATOMIC;
import static io.hintlab.guest.mm.MigrateType.ISOLATE;
import static io.hintlab.guest.mm.MigrateType.MOVABLE;
import static io.hintlab.guest.mm.MigrateType.PCPTYPES;
import static io.hintlab.guest.mm.MigrateType.RECLAIMABLE;
import static io.hintlab.guest.mm.MigrateType.TYPES;
import static io.hintlab.guest.mm.MigrateType.UNMOVABLE;

import java.util.concurrent.locks.ReentrantLock;

/**
 * One zone ({@code struct zone}): its span, free lists ({@code free_area[]}), counters,
 * watermarks, per-cpu lists and lock, and the buddy operations that run under the lock
 * (mm/page_alloc.c, v6.16/6.17).
 *
 * <p><b>Note:</b> every method whose kernel counterpart requires {@code zone->lock} requires
 * {@link #lock} to be held by the caller; the public read accessors may be called without it and
 * then see a racy snapshot, like the kernel's zone_page_state().
 */
public final class Zone {
  public static final int WMARK_MIN = 0;
  public static final int WMARK_LOW = 1;
  public static final int WMARK_HIGH = 2;
  public static final int WMARK_PROMO = 3;
  static final int NR_WMARK = 4;

  /** FPI_SKIP_REPORT_NOTIFY: do not call page_reporting_notify_free(). */
  static final int FPI_SKIP_REPORT_NOTIFY = 1;
  /** FPI_TO_TAIL: put the freed block at the tail of its free list. */
  static final int FPI_TO_TAIL = 2;

  /** Aux value of TAIL pages that belong to a pcp or taken block (not an allocation). */
  static final int AUX_NONE = 15;

  /** watermark_boost_factor default (mm/page_alloc.c). */
  static final int DEFAULT_WATERMARK_BOOST_FACTOR = 15000;

  final ZoneType type;
  final MemMap mm;
  final Geometry geo;
  final int startPfn;
  final int spanned;
  int present;
  long managed;

  /** zone->lock. */
  public final ReentrantLock lock = new ReentrantLock();

  // free_area[order].free_list[mt], flattened to index order * TYPES + mt
  final int[] listHead;
  final int[] listTail;
  final int[] listLen;
  /** free_area[order].nr_free: blocks of that order on all lists. */
  final long[] nrFree;

  long nrFreePages; // NR_FREE_PAGES (isolated free pages excluded)
  long nrFreeCma; // NR_FREE_CMA_PAGES
  long nrFreePagesBlocks; // NR_FREE_PAGES_BLOCKS (v6.15+)
  long nrFreeHighatomic;
  long nrReservedHighatomic;
  long nrIsolatePageblock;
  long cmaPages;

  final long[] watermark = new long[NR_WMARK];
  long watermarkBoost;
  final long[] lowmemReserve = new long[ZoneType.MAX_NR_ZONES];
  /** ZONE_BELOW_HIGH. */
  volatile boolean belowHigh;
  /** ZONE_BOOSTED_WATERMARK: set under the lock, tested and cleared by rmqueue() without it. */
  volatile boolean boostedWatermark;

  boolean mobilityDisabled;
  int watermarkBoostFactor = DEFAULT_WATERMARK_BOOST_FACTOR;
  FreePageNotifier notifier = FreePageNotifier.NONE;

  /** per_cpu_pageset, one per modelled cpu. */
  PerCpuPages[] pcp = new PerCpuPages[0];

  /** Fallback events (tracepoint mm_page_alloc_extfrag) and those with fallback_order < pageblock_order. */
  long extfragEvents;
  long extfragFragmenting;

  /** The rmqueue mode of the current bulk or buddy allocation (zone lock held; no garbage). */
  final int[] rmqueueMode = new int[1];

  // scratch results of prepMoveFreepagesBlock (zone lock held)
  private int prepStart;
  private int prepFree;
  private int prepMovable;

  Zone(ZoneType type, MemMap mm, int startPfn, int spanned) {
    this.type = type;
    this.mm = mm;
    this.geo = mm.geo;
    this.startPfn = startPfn;
    this.spanned = spanned;
    int lists = geo.nrPageOrders() * TYPES;
    this.listHead = new int[lists];
    this.listTail = new int[lists];
    this.listLen = new int[lists];
    this.nrFree = new long[geo.nrPageOrders()];
    java.util.Arrays.fill(listHead, NIL);
    java.util.Arrays.fill(listTail, NIL);
  }

  // ---------------------------------------------------------------- accessors

  /** The zone type. */
  public ZoneType type() {
    return type;
  }

  /** The kernel's zone name ("DMA32"...). */
  public String name() {
    return type.kernelName();
  }

  /** zone_start_pfn. */
  public int startPfn() {
    return startPfn;
  }

  /** zone_end_pfn(): one past the last spanned pfn. */
  public int endPfn() {
    return startPfn + spanned;
  }

  /** spanned_pages. */
  public int spannedPages() {
    return spanned;
  }

  /** present_pages. */
  public int presentPages() {
    return present;
  }

  /** managed_pages. */
  public long managedPages() {
    return managed;
  }

  /** populated_zone(). */
  public boolean populated() {
    return present > 0;
  }

  /** zone_spans_pfn(). */
  public boolean spans(int pfn) {
    return pfn >= startPfn && pfn < startPfn + spanned;
  }

  /** NR_FREE_PAGES. */
  public long freePages() {
    return nrFreePages;
  }

  /** NR_FREE_CMA_PAGES. */
  public long freeCmaPages() {
    return nrFreeCma;
  }

  /** NR_FREE_PAGES_BLOCKS: free pages in buddies of order &gt;= pageblock_order, not isolated. */
  public long freePagesBlocks() {
    return nrFreePagesBlocks;
  }

  /** zone->nr_reserved_highatomic. */
  public long reservedHighatomic() {
    return nrReservedHighatomic;
  }

  /** zone->nr_free_highatomic. */
  public long freeHighatomic() {
    return nrFreeHighatomic;
  }

  /** zone->nr_isolate_pageblock. */
  public long isolatedPageblocks() {
    return nrIsolatePageblock;
  }

  /** cma_pages. */
  public long cmaPages() {
    return cmaPages;
  }

  /** free_area[order].nr_free. */
  public long nrFree(int order) {
    return nrFree[order];
  }

  /** Length of free_list[mt] of free_area[order]. */
  public int freeListLength(int order, int mt) {
    return listLen[order * TYPES + mt];
  }

  /** The head pfn of free_list[mt] of free_area[order], or {@link MemMap#NIL}. */
  public int freeListFirst(int order, int mt) {
    return listHead[order * TYPES + mt];
  }

  /** The pfn after {@code pfn} on its free list, or {@link MemMap#NIL}. Zone lock held. */
  public int freeListNext(int pfn) {
    return mm.next[pfn];
  }

  /** _watermark[w] (without boost). */
  public long watermark(int w) {
    return watermark[w];
  }

  /** wmark_pages(): _watermark[w] + watermark_boost. */
  public long wmarkPages(int w) {
    return watermark[w] + watermarkBoost;
  }

  /** watermark_boost. */
  public long watermarkBoost() {
    return watermarkBoost;
  }

  /** lowmem_reserve[zoneIdx]. */
  public long lowmemReserve(int zoneIdx) {
    return lowmemReserve[zoneIdx];
  }

  /** The per-cpu pageset of cpu. */
  public PerCpuPages pcp(int cpu) {
    return pcp[cpu];
  }

  /** Number of per-cpu pagesets (modelled cpus). */
  public int nrCpus() {
    return pcp.length;
  }

  /** Fallback allocations so far (mm_page_alloc_extfrag events). */
  public long extfragEvents() {
    return extfragEvents;
  }

  /** Fallback allocations that split a block smaller than a pageblock (fragmenting=1). */
  public long extfragFragmenting() {
    return extfragFragmenting;
  }

  /** The memory map this zone lives in. */
  public MemMap memMap() {
    return mm;
  }

  /** Page geometry. */
  public Geometry geometry() {
    return geo;
  }

  @Override
  public String toString() {
    return "zone " + name() + " [" + startPfn + ", " + endPfn() + ")";
  }

  // ---------------------------------------------------------------- free lists

  private void listPush(int li, int pfn) {
    int[] next = mm.next;
    int[] prev = mm.prev;
    int h = listHead[li];
    next[pfn] = h;
    prev[pfn] = NIL;
    if (h == NIL) {
      listTail[li] = pfn;
    } else {
      prev[h] = pfn;
    }
    listHead[li] = pfn;
    listLen[li]++;
  }

  private void listAppend(int li, int pfn) {
    int[] next = mm.next;
    int[] prev = mm.prev;
    int t = listTail[li];
    prev[pfn] = t;
    next[pfn] = NIL;
    if (t == NIL) {
      listHead[li] = pfn;
    } else {
      next[t] = pfn;
    }
    listTail[li] = pfn;
    listLen[li]++;
  }

  private void listUnlink(int li, int pfn) {
    int[] next = mm.next;
    int[] prev = mm.prev;
    int n = next[pfn];
    int p = prev[pfn];
    if (p == NIL) {
      listHead[li] = n;
    } else {
      next[p] = n;
    }
    if (n == NIL) {
      listTail[li] = p;
    } else {
      prev[n] = p;
    }
    listLen[li]--;
  }

  /** __add_to_free_list(): link a block head at the head or tail of free_list[mt]. */
  void addToFreeList(int pfn, int order, int mt, boolean toTail) {
    mm.setHead(pfn, K_BUDDY, mt, order);
    int li = order * TYPES + mt;
    if (toTail) {
      listAppend(li, pfn);
    } else {
      listPush(li, pfn);
    }
    nrFree[order]++;
    if (order >= geo.pageblockOrder() && mt != ISOLATE) {
      nrFreePagesBlocks += 1L << order;
    }
  }

  /**
   * __del_page_from_free_list(): unlink a free block; clears PageBuddy and PageReported (a block
   * leaving a free list is no longer reported). The head becomes a FREE_TAIL page until the
   * caller gives it a new kind.
   */
  void delFromFreeList(int pfn, int order, int mt) {
    if (mm.kind(pfn) != K_BUDDY || mm.order(pfn) != order || mm.aux(pfn) != mt) {
      throw new IllegalStateException(
          "free-list corruption: pfn " + pfn + " is not a buddy of order " + order + " on the "
              + MigrateType.name(mt) + " list (kind " + mm.kind(pfn) + ", order " + mm.order(pfn)
              + ", list " + mm.aux(pfn) + ")");
    }
    listUnlink(order * TYPES + mt, pfn);
    mm.setKind(pfn, K_FREE_TAIL, 0);
    nrFree[order]--;
    if (order >= geo.pageblockOrder() && mt != ISOLATE) {
      nrFreePagesBlocks -= 1L << order;
    }
  }

  /** del_page_from_free_list(): unlink and account. */
  void delFromFreeListAccounted(int pfn, int order, int mt) {
    delFromFreeList(pfn, order, mt);
    accountFreepages(-(1L << order), mt);
  }

  /**
   * move_to_free_list(): move a free block to the tail of another type's list, fixing the free
   * counters. PageReported is kept: the block did not leave the free lists.
   */
  void moveToFreeList(int pfn, int order, int oldMt, int newMt) {
    boolean reported = mm.isReported(pfn);
    listUnlink(order * TYPES + oldMt, pfn);
    mm.setHead(pfn, K_BUDDY, newMt, order);
    mm.setReported(pfn, reported);
    listAppend(order * TYPES + newMt, pfn);
    long nr = 1L << order;
    accountFreepages(-nr, oldMt);
    accountFreepages(nr, newMt);
    if (order >= geo.pageblockOrder() && (oldMt == ISOLATE) != (newMt == ISOLATE)) {
      nrFreePagesBlocks += oldMt == ISOLATE ? nr : -nr;
    }
  }

  /** account_freepages(): isolated pages are not free pages; CMA and HIGHATOMIC counted apart. */
  void accountFreepages(long nr, int mt) {
    if (mt == ISOLATE) {
      return;
    }
    nrFreePages += nr;
    if (mt == CMA) {
      nrFreeCma += nr;
    } else if (mt == HIGHATOMIC) {
      nrFreeHighatomic += nr;
    }
  }

  // ---------------------------------------------------------------- pageblock types

  /**
   * set_pageblock_migratetype(): refuses MIGRATE_ISOLATE (isolation is its own bit since v6.16)
   * and forces UNMOVABLE when grouping by mobility is disabled.
   */
  void setPageblockMigratetype(int pfn, int mt) {
    if (mt == ISOLATE) {
      throw new IllegalArgumentException("use setPageblockIsolate() for pageblock isolation");
    }
    if (mobilityDisabled && mt < PCPTYPES) {
      mt = UNMOVABLE;
    }
    mm.setPageblockTypeBits(pfn, mt);
  }

  /** change_pageblock_range(): set every pageblock a block of startOrder covers. */
  void changePageblockRange(int pfn, int startOrder, int mt) {
    int nr = startOrder > geo.pageblockOrder() ? 1 << (startOrder - geo.pageblockOrder()) : 1;
    for (int i = 0; i < nr; i++) {
      setPageblockMigratetype(pfn + (i << geo.pageblockOrder()), mt);
    }
  }

  // ---------------------------------------------------------------- free path

  boolean isBuddyOfOrder(int pfn, int order) {
    // page_is_buddy(): PageBuddy, same order, same zone
    return pfn >= startPfn
        && pfn < startPfn + spanned
        && mm.kind(pfn) == K_BUDDY
        && mm.order(pfn) == order;
  }

  /**
   * __free_one_page(): merge the block with free buddies of the same order and put the result on
   * a free list. Merging stops at pageblock_order and above between types of which one is not
   * mergeable (isolated, CMA, HIGHATOMIC blocks). The caller has removed the block from wherever
   * it was; its pages are marked FREE_TAIL here.
   */
  void freeOnePage(int pfn, int order, int mt, int fpi) {
    mm.setKind(pfn, K_FREE_TAIL, 0);
    mm.fillTails(pfn, order, K_FREE_TAIL, 0);
    accountFreepages(1L << order, mt);
    final int maxOrder = geo.maxPageOrder();
    final int pbOrder = geo.pageblockOrder();
    int buddyPfn = 0;
    while (order < maxOrder) {
      buddyPfn = pfn ^ (1 << order);
      if (!isBuddyOfOrder(buddyPfn, order)) {
        break;
      }
      int buddyMt = mt;
      if (order >= pbOrder) {
        buddyMt = mm.getPfnblockMigratetype(buddyPfn);
        if (mt != buddyMt && (!MigrateType.isMergeable(mt) || !MigrateType.isMergeable(buddyMt))) {
          break;
        }
      }
      delFromFreeList(buddyPfn, order, buddyMt);
      if (buddyMt != mt) {
        // Match buddy type so that expand() later puts the halves on the right lists. The
        // kernel sets the buddy's first pageblock; a buddy of order > pageblock_order only
        // happens with pageblock_order < MAX_PAGE_ORDER - 1, where we set all of them.
        changePageblockRange(buddyPfn, order, mt);
      }
      pfn &= buddyPfn;
      order++;
    }
    boolean toTail = (fpi & FPI_TO_TAIL) != 0 || buddyMergeLikely(pfn, buddyPfn, order);
    addToFreeList(pfn, order, mt, toTail);
    if ((fpi & FPI_SKIP_REPORT_NOTIFY) == 0) {
      notifier.onFree(this, pfn, order);
    }
  }

  /**
   * buddy_merge_likely(): if the block's parent has a free buddy one order up, freeing our buddy
   * would merge two levels, so queue the block at the tail where it is less likely to be reused.
   */
  private boolean buddyMergeLikely(int pfn, int buddyPfn, int order) {
    if (order >= geo.maxPageOrder() - 1) {
      return false;
    }
    int higher = buddyPfn & pfn;
    return isBuddyOfOrder(higher ^ (1 << (order + 1)), order + 1);
  }

  /**
   * split_large_buddy(): free a block larger than a pageblock one pageblock at a time, each with
   * its own pageblock's migratetype; __free_one_page() re-merges what may merge.
   */
  void splitLargeBuddy(int pfn, int order, int fpi) {
    int end = pfn + (1 << order);
    if (order > geo.pageblockOrder()) {
      order = geo.pageblockOrder();
    }
    do {
      int mt = mm.getPfnblockMigratetype(pfn);
      freeOnePage(pfn, order, mt, fpi);
      pfn += 1 << order;
    } while (pfn != end);
  }

  // ---------------------------------------------------------------- allocation path

  /**
   * expand(): split a block of order high down to low, putting each upper half at the head of the
   * free list of order high-1...low; the lowest part is what the caller gets.
   *
   * @return the number of pages put back on free lists
   */
  int expand(int pfn, int low, int high, int mt) {
    int nrAdded = 0;
    int size = 1 << high;
    while (high > low) {
      high--;
      size >>= 1;
      addToFreeList(pfn + size, high, mt, false);
      nrAdded += size;
    }
    return nrAdded;
  }

  /** page_del_and_expand(). */
  void pageDelAndExpand(int pfn, int low, int high, int mt) {
    delFromFreeList(pfn, high, mt);
    int nrPages = (1 << high) - expand(pfn, low, high, mt);
    accountFreepages(-nrPages, mt);
  }

  /**
   * __rmqueue_smallest(): the head of the smallest non-empty free list of type mt at order or
   * above, split down to order.
   *
   * @return the pfn, or -1
   */
  int rmqueueSmallest(int order, int mt) {
    final int nrOrders = geo.nrPageOrders();
    for (int o = order; o < nrOrders; o++) {
      int pfn = listHead[o * TYPES + mt];
      if (pfn == NIL) {
        continue;
      }
      pageDelAndExpand(pfn, order, o, mt);
      return pfn;
    }
    return -1;
  }

  /** rmqueue modes of __rmqueue() (v6.15+). */
  static final int RMQUEUE_NORMAL = 0;
  static final int RMQUEUE_CMA = 1;
  static final int RMQUEUE_CLAIM = 2;
  static final int RMQUEUE_STEAL = 3;

  /**
   * __rmqueue(): the requested type's lists, then CMA (movable with ALLOC_CMA), then claiming a
   * block of another type, then stealing a block without claiming (never with ALLOC_NOFRAGMENT).
   * {@code mode[0]} remembers where pay dirt was found across the calls of one rmqueue_bulk().
   */
  int rmqueue(int order, int mt, int allocFlags, int[] mode) {
    if ((allocFlags & AllocFlags.ALLOC_CMA) != 0 && nrFreeCma > nrFreePages / 2) {
      // Balance movable allocations between regular and CMA areas.
      int pfn = rmqueueSmallest(order, CMA);
      if (pfn >= 0) {
        return pfn;
      }
    }
    int pfn;
    switch (mode[0]) {
      case RMQUEUE_NORMAL:
        pfn = rmqueueSmallest(order, mt);
        if (pfn >= 0) {
          return pfn;
        }
      // fall through
      case RMQUEUE_CMA:
        if ((allocFlags & AllocFlags.ALLOC_CMA) != 0) {
          pfn = rmqueueSmallest(order, CMA);
          if (pfn >= 0) {
            mode[0] = RMQUEUE_CMA;
            return pfn;
          }
        }
      // fall through
      case RMQUEUE_CLAIM:
        pfn = rmqueueClaim(order, mt, allocFlags);
        if (pfn >= 0) {
          mode[0] = RMQUEUE_NORMAL; // replenished the preferred free list
          return pfn;
        }
      // fall through
      default:
        if ((allocFlags & AllocFlags.ALLOC_NOFRAGMENT) == 0) {
          pfn = rmqueueSteal(order, mt);
          if (pfn >= 0) {
            mode[0] = RMQUEUE_STEAL;
            return pfn;
          }
        }
        return -1;
    }
  }

  /** should_try_claim_block(). */
  boolean shouldTryClaimBlock(int order, int startMt) {
    if (order >= geo.pageblockOrder()) {
      return true; // whole pageblocks are always claimed
    }
    if (order >= geo.pageblockOrder() / 2) {
      return true; // a big split: take the block to avoid further fragmentation
    }
    if (startMt == RECLAIMABLE || startMt == UNMOVABLE) {
      return true; // unmovable allocations pollute blocks they do not claim
    }
    return mobilityDisabled;
  }

  /**
   * find_suitable_fallback(): the first fallback type (table order) with a non-empty list at
   * order; -1 if none, -2 if claiming at this order is not worth it.
   */
  int findSuitableFallback(int order, int mt, boolean claimable) {
    if (claimable && !shouldTryClaimBlock(order, mt)) {
      return -2;
    }
    if (nrFree[order] == 0) {
      return -1;
    }
    for (int i = 0; i < PCPTYPES - 1; i++) {
      int fmt = MigrateType.fallback(mt, i);
      if (listHead[order * TYPES + fmt] != NIL) {
        return fmt;
      }
    }
    return -1;
  }

  /**
   * __rmqueue_claim(): from the largest order down, find a fallback block and try to claim its
   * whole pageblock. With ALLOC_NOFRAGMENT only whole pageblocks are taken.
   */
  int rmqueueClaim(int order, int startMt, int allocFlags) {
    int minOrder = order;
    if (order < geo.pageblockOrder() && (allocFlags & AllocFlags.ALLOC_NOFRAGMENT) != 0) {
      minOrder = geo.pageblockOrder();
    }
    for (int o = geo.maxPageOrder(); o >= minOrder; o--) {
      int fmt = findSuitableFallback(o, startMt, true);
      if (fmt == -1) {
        continue;
      }
      if (fmt == -2) {
        break; // into orders too low to claim
      }
      int pfn = listHead[o * TYPES + fmt];
      pfn = tryToClaimBlock(pfn, o, order, startMt, fmt, allocFlags);
      if (pfn >= 0) {
        traceExtfrag(order, o);
        return pfn;
      }
    }
    return -1;
  }

  /**
   * __rmqueue_steal(): the smallest fallback block; it is split on the fallback type's lists and
   * the pageblock keeps its type.
   */
  int rmqueueSteal(int order, int startMt) {
    for (int o = order; o < geo.nrPageOrders(); o++) {
      int fmt = findSuitableFallback(o, startMt, false);
      if (fmt == -1) {
        continue;
      }
      int pfn = listHead[o * TYPES + fmt];
      pageDelAndExpand(pfn, order, o, fmt);
      traceExtfrag(order, o);
      return pfn;
    }
    return -1;
  }

  private void traceExtfrag(int allocOrder, int fallbackOrder) {
    extfragEvents++;
    if (fallbackOrder < geo.pageblockOrder()) {
      extfragFragmenting++;
    }
  }

  /**
   * try_to_claim_block(): a block of pageblock order or more changes type wholesale; a smaller one
   * claims its pageblock when at least half of it is free or alike (movable pages for a movable
   * request; for others, the block's non-free non-movable pages when it is a movable block).
   */
  int tryToClaimBlock(int pfn, int currentOrder, int order, int startType, int blockType,
      int allocFlags) {
    if (currentOrder >= geo.pageblockOrder()) {
      delFromFreeList(pfn, currentOrder, blockType);
      changePageblockRange(pfn, currentOrder, startType);
      int nrAdded = expand(pfn, order, currentOrder, startType);
      accountFreepages(-(1L << currentOrder), blockType);
      accountFreepages(nrAdded, startType);
      return pfn;
    }
    if (boostWatermark() && (allocFlags & AllocFlags.ALLOC_KSWAPD) != 0) {
      boostedWatermark = true;
    }
    if (!prepMoveFreepagesBlock(pfn, true)) {
      return -1; // the pageblock straddles the zone boundary
    }
    int alike;
    if (startType == MOVABLE) {
      alike = prepMovable;
    } else if (blockType == MOVABLE) {
      alike = geo.pageblockNrPages() - (prepFree + prepMovable);
    } else {
      alike = 0;
    }
    if (prepFree + alike >= (1 << (geo.pageblockOrder() - 1)) || mobilityDisabled) {
      int start = prepStart;
      moveFreepagesInBlock(start, blockType, startType);
      setPageblockMigratetype(start, startType);
      return rmqueueSmallest(order, startType);
    }
    return -1;
  }

  /**
   * prep_move_freepages_block(): false if the pageblock of pfn is not wholly in the zone; else,
   * when counting, counts its free pages and its movable (LRU or movable_ops) pages.
   */
  boolean prepMoveFreepagesBlock(int pfn, boolean count) {
    int start = geo.pageblockStartPfn(pfn);
    int end = start + geo.pageblockNrPages();
    if (!spans(start) || !spans(end - 1)) {
      return false;
    }
    prepStart = start;
    if (!count) {
      return true;
    }
    int free = 0;
    int movable = 0;
    for (int p = start; p < end; ) {
      int k = mm.kind(p);
      if (k == K_BUDDY) {
        int nr = 1 << mm.order(p);
        free += nr;
        p += nr;
        continue;
      }
      if ((k == MemMap.K_ALLOC || k == K_TAIL) && isMovableAllocation(mm.aux(p))) {
        movable++;
      }
      p++;
    }
    prepFree = free;
    prepMovable = movable;
    return true;
  }

  /** Pages allocated MOVABLE (LRU pages) or with movable_ops (balloon pages) can be migrated. */
  static boolean isMovableAllocation(int aux) {
    return aux == MOVABLE || aux == MemMap.AUX_MOVABLE_OPS;
  }

  /**
   * __move_freepages_block(): move every free block in the pageblock at start to newMt's list
   * tail.
   *
   * @return pages moved
   */
  int moveFreepagesInBlock(int start, int oldMt, int newMt) {
    int end = start + geo.pageblockNrPages();
    int moved = 0;
    for (int p = start; p < end; ) {
      if (mm.kind(p) != K_BUDDY) {
        p++;
        continue;
      }
      int order = mm.order(p);
      moveToFreeList(p, order, oldMt, newMt);
      p += 1 << order;
      moved += 1 << order;
    }
    return moved;
  }

  /**
   * move_freepages_block(): move the pageblock's free blocks from oldMt to newMt and set its type.
   *
   * @return pages moved, or -1 if the pageblock straddles the zone boundary
   */
  int moveFreepagesBlock(int pfn, int oldMt, int newMt) {
    if (!prepMoveFreepagesBlock(pfn, false)) {
      return -1;
    }
    int start = prepStart;
    int moved = moveFreepagesInBlock(start, oldMt, newMt);
    setPageblockMigratetype(start, newMt);
    return moved;
  }

  /**
   * boost_watermark(): on a fragmenting fallback raise the watermarks by a pageblock, up to
   * high * watermark_boost_factor / 10000, so kswapd reclaims and compacts sooner.
   */
  boolean boostWatermark() {
    if (watermarkBoostFactor == 0) {
      return false;
    }
    if ((long) geo.pageblockNrPages() * 4 > managed) {
      return false; // small zones: boosting could cause an immediate OOM
    }
    long maxBoost = watermark[WMARK_HIGH] * watermarkBoostFactor / 10000;
    if (maxBoost == 0) {
      return false;
    }
    maxBoost = Math.max(geo.pageblockNrPages(), maxBoost);
    watermarkBoost = Math.min(watermarkBoost + geo.pageblockNrPages(), maxBoost);
    return true;
  }

  // ---------------------------------------------------------------- import hooks

  /**
   * Empties every free list and zeroes the free-page and pageblock counters, so that an importer
   * ({@link PagetypeinfoImport}) can rebuild the zone's state. Zone lock held.
   */
  void resetFreeArea() {
    checkLocked();
    java.util.Arrays.fill(listHead, NIL);
    java.util.Arrays.fill(listTail, NIL);
    java.util.Arrays.fill(listLen, 0);
    java.util.Arrays.fill(nrFree, 0);
    nrFreePages = 0;
    nrFreeCma = 0;
    nrFreePagesBlocks = 0;
    nrFreeHighatomic = 0;
    nrReservedHighatomic = 0;
    nrIsolatePageblock = 0;
    cmaPages = 0;
  }

  /**
   * Sets _watermark[] (without boost), watermark_boost and lowmem_reserve[] to values read from a
   * real machine instead of those __setup_per_zone_wmarks() computed. Zone lock held.
   *
   * @param wmarks _watermark[WMARK_MIN..WMARK_PROMO]
   * @param boost watermark_boost
   * @param lowmemReserve lowmem_reserve[] by zone type, MAX_NR_ZONES entries
   */
  void overrideWatermarks(long[] wmarks, long boost, long[] lowmemReserve) {
    checkLocked();
    System.arraycopy(wmarks, 0, watermark, 0, NR_WMARK);
    watermarkBoost = boost;
    boostedWatermark = boost != 0;
    System.arraycopy(lowmemReserve, 0, this.lowmemReserve, 0, ZoneType.MAX_NR_ZONES);
  }

  // ---------------------------------------------------------------- watermarks

  /** __zone_watermark_unusable_free(). */
  long unusableFree(int order, int allocFlags) {
    long unusable = (1L << order) - 1;
    if ((allocFlags & AllocFlags.ALLOC_RESERVES) == 0) {
      unusable += nrFreeHighatomic;
    }
    if ((allocFlags & AllocFlags.ALLOC_CMA) == 0) {
      unusable += nrFreeCma;
    }
    return unusable;
  }

  /**
   * __zone_watermark_ok(): free pages above mark plus lowmem_reserve, and for order &gt; 0 a free
   * block of at least that order on a list the caller may use.
   */
  boolean watermarkOk(int order, long mark, int highestZoneIdx, int allocFlags, long freePages) {
    long min = mark;
    freePages -= unusableFree(order, allocFlags);
    if ((allocFlags & AllocFlags.ALLOC_RESERVES) != 0) {
      if ((allocFlags & AllocFlags.ALLOC_MIN_RESERVE) != 0) {
        min -= min / 2; // __GFP_HIGH: half of the min reserve
        if ((allocFlags & AllocFlags.ALLOC_NON_BLOCK) != 0) {
          min -= min / 4; // atomic: a quarter more
        }
      }
      if ((allocFlags & AllocFlags.ALLOC_OOM) != 0) {
        min -= min / 2;
      }
    }
    if (freePages <= min + lowmemReserve[highestZoneIdx]) {
      return false;
    }
    if (order == 0) {
      return true;
    }
    for (int o = order; o < geo.nrPageOrders(); o++) {
      if (nrFree[o] == 0) {
        continue;
      }
      int base = o * TYPES;
      for (int mt = 0; mt < PCPTYPES; mt++) {
        if (listHead[base + mt] != NIL) {
          return true;
        }
      }
      if ((allocFlags & AllocFlags.ALLOC_CMA) != 0 && listHead[base + CMA] != NIL) {
        return true;
      }
      if ((allocFlags & (AllocFlags.ALLOC_HIGHATOMIC | AllocFlags.ALLOC_OOM)) != 0
          && listHead[base + HIGHATOMIC] != NIL) {
        return true;
      }
    }
    return false;
  }

  /** zone_watermark_ok(): __zone_watermark_ok() against NR_FREE_PAGES. */
  public boolean watermarkOk(int order, long mark, int highestZoneIdx, int allocFlags) {
    return watermarkOk(order, mark, highestZoneIdx, allocFlags, nrFreePages);
  }

  /** zone_watermark_fast(): the order-0 shortcut, then the full check. */
  boolean watermarkFast(int order, long mark, int highestZoneIdx, int allocFlags) {
    long freePages = nrFreePages;
    if (order == 0) {
      long usable = freePages;
      long reserved = unusableFree(0, allocFlags);
      usable -= Math.min(usable, reserved);
      if (usable > mark + lowmemReserve[highestZoneIdx]) {
        return true;
      }
    }
    if (watermarkOk(order, mark, highestZoneIdx, allocFlags, freePages)) {
      return true;
    }
    // Ignore the boost for __GFP_HIGH order-0 allocations checking the min watermark.
    if (order == 0
        && (allocFlags & AllocFlags.ALLOC_MIN_RESERVE) != 0
        && watermarkBoost != 0
        && (allocFlags & AllocFlags.ALLOC_WMARK_MASK) == WMARK_MIN) {
      return watermarkOk(order, watermark[WMARK_MIN], highestZoneIdx, allocFlags, freePages);
    }
    return false;
  }

  // ---------------------------------------------------------------- isolated pages (reporting, compaction)

  /**
   * __isolate_free_page(): take a free block off its list as if allocating it (order-0 watermark
   * raised by the block size, skipped for isolated pageblocks). A block of at least half a
   * pageblock turns its mergeable pageblocks MOVABLE. The block becomes TAKEN. Zone lock held.
   *
   * @return the number of pages taken, or 0 if the watermark check failed
   */
  public int isolateFreePage(int pfn, int order) {
    checkLocked();
    if (!isBuddyOfOrder(pfn, order)) {
      throw new IllegalArgumentException("pfn " + pfn + " is not a free block of order " + order);
    }
    int mt = mm.aux(pfn);
    if (mt != ISOLATE) {
      long wm = watermark[WMARK_MIN] + (1L << order);
      if (!watermarkOk(0, wm, 0, AllocFlags.ALLOC_CMA)) {
        return 0;
      }
    }
    delFromFreeListAccounted(pfn, order, mt);
    mm.setHead(pfn, K_TAKEN, mt, order);
    mm.fillTails(pfn, order, K_TAIL, AUX_NONE);
    if (order >= geo.pageblockOrder() - 1) {
      int end = pfn + (1 << order) - 1;
      for (int p = pfn; p < end; p += geo.pageblockNrPages()) {
        int bmt = mm.getPfnblockMigratetype(p);
        if (MigrateType.isMergeable(bmt)) {
          moveFreepagesBlock(p, bmt, MOVABLE);
        }
      }
    }
    return 1 << order;
  }

  /**
   * __putback_isolated_page(): return a TAKEN block to the tail of the free list of mt without
   * notifying page reporting. Zone lock held.
   */
  public void putbackIsolatedPage(int pfn, int order, int mt) {
    checkLocked();
    if (!spans(pfn) || mm.kind(pfn) != K_TAKEN || mm.order(pfn) != order) {
      throw new IllegalArgumentException("pfn " + pfn + " is not a taken block of order " + order);
    }
    freeOnePage(pfn, order, mt, FPI_SKIP_REPORT_NOTIFY | FPI_TO_TAIL);
  }

  /**
   * The reporting drain's {@code __SetPageReported()}: marks the block reported only if it is
   * still a free block of exactly that order (a block that merged is a new, unreported block).
   * Zone lock held.
   *
   * @return whether the flag was set
   */
  public boolean setPageReported(int pfn, int order) {
    checkLocked();
    if (!isBuddyOfOrder(pfn, order)) {
      return false;
    }
    mm.setReported(pfn, true);
    return true;
  }

  /**
   * list_rotate_to_front(&amp;page-&gt;lru, list) (include/linux/list.h): rotates the free list
   * that holds the block headed by {@code pfn} so that the block becomes its head; the blocks
   * before it move, in order, to the tail. Members and cyclic order are unchanged.
   * page_reporting_cycle() (mm/page_reporting.c) uses it so that its next walk of the list
   * resumes at the first block it has not processed. Zone lock held.
   *
   * @param pfn the head of a free block on one of this zone's free lists
   * @throws IllegalArgumentException if pfn is not the head of a free block of this zone
   */
  public void rotateFreeListTo(int pfn) {
    checkLocked();
    if (!spans(pfn) || mm.kind(pfn) != K_BUDDY) {
      throw new IllegalArgumentException("pfn " + pfn + " is not a free block of zone " + name());
    }
    int[] next = mm.next;
    int[] prev = mm.prev;
    int before = prev[pfn];
    if (before == NIL) {
      return; // list_is_first(): already the head
    }
    int li = mm.order(pfn) * TYPES + mm.aux(pfn);
    int head = listHead[li];
    int tail = listTail[li];
    next[tail] = head;
    prev[head] = tail;
    next[before] = NIL;
    prev[pfn] = NIL;
    listHead[li] = pfn;
    listTail[li] = before;
  }

  /**
   * zone_watermark_ok(zone, 0, mark, 0, ALLOC_CMA): free pages, free CMA pages included, above
   * {@code mark} (plus lowmem_reserve[0], which is 0). page_reporting_process_zone() gates a zone
   * with it (mm/page_reporting.c) without the zone lock, so the caller may read a racy snapshot
   * as the kernel does.
   *
   * @param mark the watermark in pages
   * @return whether the zone has more than mark free pages
   */
  public boolean watermarkOkCma(long mark) {
    return watermarkOk(0, mark, 0, AllocFlags.ALLOC_CMA);
  }

  /** Installs the page_reporting_notify_free() hook. */
  public void setFreePageNotifier(FreePageNotifier notifier) {
    this.notifier = notifier == null ? FreePageNotifier.NONE : notifier;
  }

  void checkLocked() {
    if (!lock.isHeldByCurrentThread()) {
      throw new IllegalStateException("zone " + name() + " lock not held");
    }
  }

}
