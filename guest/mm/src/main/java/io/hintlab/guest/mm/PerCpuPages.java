package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MemMap.K_PCP;
import static io.hintlab.guest.mm.MemMap.K_TAIL;
import static io.hintlab.guest.mm.MemMap.NIL;

import java.util.Arrays;

/**
 * One cpu's page lists for one zone ({@code struct per_cpu_pages}, include/linux/mmzone.h): lists
 * for orders 0..PAGE_ALLOC_COSTLY_ORDER per pcp migratetype plus two THP lists at pageblock
 * order, with count, high (auto-tuned between high_min and high_max), batch, free_count and
 * alloc_factor as in v6.7+ mm/page_alloc.c.
 *
 * <p>Pages on these lists are not free in the buddy and are never reported.
 *
 * <p><b>Note:</b> guarded by its own monitor (the kernel's pcp->lock); the zone lock is taken
 * inside it for bulk moves, never the other way round.
 */
public final class PerCpuPages {
  /** CONFIG_PCP_BATCH_SCALE_MAX default (mm/Kconfig). */
  static final int PCP_BATCH_SCALE_MAX = 5;
  /** NR_LOWORDER_PCP_LISTS = MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1). */
  static final int NR_LOWORDER_PCP_LISTS =
      MigrateType.PCPTYPES * (Geometry.PAGE_ALLOC_COSTLY_ORDER + 1);
  /** NR_PCP_THP: two lists at HPAGE_PMD_ORDER (unmovable and movable). */
  static final int NR_PCP_THP = 2;
  /** NR_PCP_LISTS. */
  public static final int NR_PCP_LISTS = NR_LOWORDER_PCP_LISTS + NR_PCP_THP;

  static final int PCPF_PREV_FREE_HIGH_ORDER = 1;
  static final int PCPF_FREE_HIGH_BATCH = 2;

  final int cpu;
  final Zone zone;
  final MemMap mm;
  final int thpOrder;
  final int[] head = new int[NR_PCP_LISTS];
  final int[] tail = new int[NR_PCP_LISTS];
  /** Pages (not blocks) on all lists. */
  int count;
  int high;
  int highMin;
  int highMax;
  int batch;
  int flags;
  int allocFactor;
  int freeCount;

  PerCpuPages(int cpu, Zone zone, int thpOrder) {
    this.cpu = cpu;
    this.zone = zone;
    this.mm = zone.mm;
    this.thpOrder = thpOrder;
    Arrays.fill(head, NIL);
    Arrays.fill(tail, NIL);
  }

  /** The cpu this pageset belongs to. */
  public int cpu() {
    return cpu;
  }

  /** pcp->count: pages on the lists. */
  public synchronized int count() {
    return count;
  }

  /** pcp->high. */
  public synchronized int high() {
    return high;
  }

  /** pcp->batch. */
  public synchronized int batch() {
    return batch;
  }

  /** pcp->high_min. */
  public synchronized int highMin() {
    return highMin;
  }

  /** pcp->high_max. */
  public synchronized int highMax() {
    return highMax;
  }

  /** pcp_allowed_order(): orders up to PAGE_ALLOC_COSTLY_ORDER and the THP order. */
  boolean allowedOrder(int order) {
    return order <= Geometry.PAGE_ALLOC_COSTLY_ORDER || order == thpOrder;
  }

  /** order_to_pindex(). */
  int orderToPindex(int mt, int order) {
    if (order > Geometry.PAGE_ALLOC_COSTLY_ORDER) {
      return NR_LOWORDER_PCP_LISTS + (mt == MigrateType.MOVABLE ? 1 : 0);
    }
    return MigrateType.PCPTYPES * order + mt;
  }

  /** pindex_to_order(). */
  int pindexToOrder(int pindex) {
    return pindex >= NR_LOWORDER_PCP_LISTS ? thpOrder : pindex / MigrateType.PCPTYPES;
  }

  // ---- list operations (pcp lock held) ----

  /** list_add(): a freed block goes to the head (cache hot). */
  void addHead(int pindex, int pfn, int order) {
    mm.setHead(pfn, K_PCP, pindex, order);
    mm.fillTails(pfn, order, K_TAIL, Zone.AUX_NONE);
    int h = head[pindex];
    mm.next[pfn] = h;
    mm.prev[pfn] = NIL;
    if (h == NIL) {
      tail[pindex] = pfn;
    } else {
      mm.prev[h] = pfn;
    }
    head[pindex] = pfn;
  }

  /** list_add_tail(): rmqueue_bulk() refills in physical order. */
  void addTail(int pindex, int pfn, int order) {
    mm.setHead(pfn, K_PCP, pindex, order);
    mm.fillTails(pfn, order, K_TAIL, Zone.AUX_NONE);
    int t = tail[pindex];
    mm.prev[pfn] = t;
    mm.next[pfn] = NIL;
    if (t == NIL) {
      head[pindex] = pfn;
    } else {
      mm.next[t] = pfn;
    }
    tail[pindex] = pfn;
  }

  /** Unlinks and returns the head (list_first_entry), or NIL. */
  int removeHead(int pindex) {
    int pfn = head[pindex];
    if (pfn == NIL) {
      return NIL;
    }
    int n = mm.next[pfn];
    head[pindex] = n;
    if (n == NIL) {
      tail[pindex] = NIL;
    } else {
      mm.prev[n] = NIL;
    }
    return pfn;
  }

  /** Unlinks and returns the tail (list_last_entry), or NIL. */
  int removeTail(int pindex) {
    int pfn = tail[pindex];
    if (pfn == NIL) {
      return NIL;
    }
    int p = mm.prev[pfn];
    tail[pindex] = p;
    if (p == NIL) {
      head[pindex] = NIL;
    } else {
      mm.next[p] = NIL;
    }
    return pfn;
  }

  /** First pfn on list pindex, or NIL (for views and the invariant checker; lock held). */
  int first(int pindex) {
    return head[pindex];
  }

  // ---- sizing and auto-tuning (mm/page_alloc.c) ----

  /**
   * nr_pcp_alloc(): how many blocks to refill with. Order-0 refills double (alloc_factor) while
   * allocations continue without frees; high grows by the batch unless the zone is below high.
   */
  int nrPcpAlloc(int order) {
    int baseBatch = batch;
    high = clamp(high, highMin, highMax);
    int hi = high;
    if (hi < baseBatch) {
      return 1; // pcp disabled or boot pageset
    }
    int b = order != 0 ? baseBatch : baseBatch << allocFactor;
    if (highMin != highMax && !zone.belowHigh) {
      hi = high = Math.min(hi + b, highMax);
    }
    if (order == 0) {
      int maxNrAlloc = Math.max(hi - count - baseBatch, baseBatch);
      if (b <= maxNrAlloc && allocFactor < PCP_BATCH_SCALE_MAX) {
        allocFactor++;
      }
      b = Math.min(b, maxNrAlloc);
    }
    if (b > 1) {
      b = Math.max(b >> order, 2);
    }
    return b;
  }

  /** nr_pcp_high(): the high mark for this free, shrinking it while the zone is below high. */
  int nrPcpHigh(int b, boolean freeHigh) {
    int hi = high = clamp(high, highMin, highMax);
    if (hi == 0) {
      return 0;
    }
    if (freeHigh) {
      high = Math.max(hi - (b << PCP_BATCH_SCALE_MAX), highMin);
      return 0;
    }
    if (highMin == highMax) {
      return hi;
    }
    if (zone.belowHigh) {
      int fc = Math.max(freeCount, b);
      high = Math.max(hi - fc, highMin);
      hi = Math.max(count, highMin);
    } else if (count >= hi) {
      int needHigh = freeCount + b;
      if (high < needHigh) {
        high = clamp(needHigh, highMin, highMax);
      }
    }
    return hi;
  }

  /** nr_pcp_free(): how many pages a free that crossed high drains. */
  int nrPcpFree(int b, int hi, boolean freeHigh) {
    if (freeHigh) {
      return Math.min(count, b << PCP_BATCH_SCALE_MAX);
    }
    if (hi < b) {
      return 1;
    }
    return clamp(freeCount, b, hi - b);
  }

  static int clamp(int v, int lo, int hi) {
    return Math.max(lo, Math.min(v, hi));
  }

  /** Sets batch and the high range (zone_set_pageset_high_and_batch()). */
  synchronized void setHighAndBatch(int highMin, int highMax, int batch) {
    this.highMin = highMin;
    this.highMax = highMax;
    this.batch = batch;
    this.high = highMin;
  }

  // ---- pcp <-> buddy (zone lock taken inside the pcp lock) ----

  /**
   * rmqueue_bulk(): take count blocks of order for a pcp list under one lock hold, appending each
   * to the list tail in the physical order expand() returns them.
   *
   * @return blocks taken
   */
  int rmqueueBulk(int order, int count, int pindex, int mt, int allocFlags) {
    zone.lock.lock();
    try {
      int[] mode = zone.rmqueueMode; // zone lock held: the scratch is ours
      mode[0] = Zone.RMQUEUE_NORMAL;
      int i;
      for (i = 0; i < count; i++) {
        int pfn = zone.rmqueue(order, mt, allocFlags, mode);
        if (pfn < 0) {
          break;
        }
        addTail(pindex, pfn, order);
      }
      return i;
    } finally {
      zone.lock.unlock();
    }
  }

  /**
   * free_pcppages_bulk(): free count pages from the pcp lists round-robin starting with pindex,
   * taking the oldest (tail) entries; each is freed with its pageblock's type at drain time. Caller
   * holds this pcp lock.
   */
  void freePcppagesBulk(int nrToFree, int pindex) {
    int toFree = Math.min(count, nrToFree);
    if (toFree <= 0) {
      return;
    }
    pindex = pindex - 1;
    zone.lock.lock();
    try {
      while (toFree > 0) {
        do {
          if (++pindex > NR_PCP_LISTS - 1) {
            pindex = 0;
          }
        } while (head[pindex] == NIL);
        int order = pindexToOrder(pindex);
        int nr = 1 << order;
        do {
          int pfn = removeTail(pindex);
          toFree -= nr;
          count -= nr;
          int mt = mm.getPfnblockMigratetype(pfn);
          zone.freeOnePage(pfn, order, mt, 0);
        } while (toFree > 0 && head[pindex] != NIL);
      }
    } finally {
      zone.lock.unlock();
    }
  }

}
