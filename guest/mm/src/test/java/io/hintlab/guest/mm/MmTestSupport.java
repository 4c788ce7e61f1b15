package io.hintlab.guest.mm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * Fixtures shared by the rule tests: small allocators with one or two explicit zones, and ways to
 * build a buddy state directly under the zone lock with the model's own primitives (the kernel
 * functions named on each), so that a test can set up exactly the free lists it needs.
 */
final class MmTestSupport {
  /** pageblock_nr_pages on x86-64. */
  static final int PB = 512;
  /** MAX_ORDER_NR_PAGES on x86-64. */
  static final int MAX_BLOCK = 1024;

  private MmTestSupport() {}

  /**
   * One DMA32 zone of {@code pages} pfns starting at pfn 4096 (so pfn 4096 heads the first
   * order-10 block), freed at boot as order-10 blocks in ascending pfn order.
   */
  static PageAllocator dma32Only(int pages, UnaryOperator<MmConfig.Builder> tune) {
    MmConfig.Builder b = MmConfig.builder().zone(new ZoneSpec(ZoneType.DMA32, 4096, pages, 0));
    return new PageAllocator(tune.apply(b).build());
  }

  /** The one zone of an allocator built by {@link #dma32Only}. */
  static Zone dma32(PageAllocator a) {
    return a.zone(ZoneType.DMA32);
  }

  /**
   * Takes the head of the smallest free list of type mt at order or above (__rmqueue_smallest())
   * and marks it allocated with migratetype mt (prep_new_page()), as the model's rmqueue does.
   */
  static int take(Zone z, int order, int mt) {
    z.lock.lock();
    try {
      int pfn = z.rmqueueSmallest(order, mt);
      assertTrue(pfn >= 0, "no free block of order >= " + order + " on the "
          + MigrateType.name(mt) + " lists of " + z);
      markAllocated(z.mm, pfn, order, mt);
      return pfn;
    } finally {
      z.lock.unlock();
    }
  }

  /** prep_new_page(): pfn heads an allocated block of order with migratetype mt. */
  static void markAllocated(MemMap mm, int pfn, int order, int mt) {
    mm.setHead(pfn, MemMap.K_ALLOC, mt, order);
    mm.fillTails(pfn, order, MemMap.K_TAIL, mt);
    mm.owner[pfn] = 0;
  }

  /** split_page(): an allocated block of order becomes 2^order allocated order-0 pages. */
  static void splitAllocated(MemMap mm, int pfn, int order, int mt) {
    for (int p = pfn; p < pfn + (1 << order); p++) {
      markAllocated(mm, p, 0, mt);
    }
  }

  /**
   * free_one_page() of an allocated block straight into the buddy: split_large_buddy() frees it
   * pageblock by pageblock with each pageblock's type.
   */
  static void freeToBuddy(Zone z, int pfn, int order) {
    z.lock.lock();
    try {
      z.splitLargeBuddy(pfn, order, 0);
    } finally {
      z.lock.unlock();
    }
  }

  /** __free_one_page() with explicit migratetype and FPI flags. */
  static void freeOne(Zone z, int pfn, int order, int mt, int fpi) {
    z.lock.lock();
    try {
      z.freeOnePage(pfn, order, mt, fpi);
    } finally {
      z.lock.unlock();
    }
  }

  /**
   * Sets the type of every pageblock an allocated block covers (change_pageblock_range()); the
   * block holds no free pages, so no free list needs fixing.
   */
  static void retypeAllocated(Zone z, int pfn, int order, int mt) {
    z.lock.lock();
    try {
      z.changePageblockRange(pfn, order, mt);
    } finally {
      z.lock.unlock();
    }
  }

  /**
   * move_freepages_block(): the pageblock of pfn and its free blocks change from their current type
   * to mt.
   */
  static void retypePageblock(Zone z, int pfn, int mt) {
    z.lock.lock();
    try {
      int old = z.mm.getPfnblockMigratetype(pfn);
      assertTrue(z.moveFreepagesBlock(pfn, old, mt) >= 0, "pageblock of " + pfn + " straddles");
    } finally {
      z.lock.unlock();
    }
  }

  /**
   * A whole free order-10 block of the zone becomes type mt: taken, its pageblocks retyped, and
   * freed back (split_large_buddy() lets the two halves merge again).
   *
   * @return the block's pfn
   */
  static int makeMaxBlockOfType(Zone z, int mt) {
    int pfn = take(z, z.geo.maxPageOrder(), MigrateType.MOVABLE);
    retypeAllocated(z, pfn, z.geo.maxPageOrder(), mt);
    freeToBuddy(z, pfn, z.geo.maxPageOrder());
    return pfn;
  }

  /** The pfns on free_list[mt] of free_area[order], head first. */
  static List<Integer> freeList(Zone z, int order, int mt) {
    z.lock.lock();
    try {
      List<Integer> out = new ArrayList<>();
      for (int p = z.freeListFirst(order, mt); p != MemMap.NIL; p = z.freeListNext(p)) {
        out.add(p);
      }
      return out;
    } finally {
      z.lock.unlock();
    }
  }

  /** The pfns on pcp list pindex of cpu, head first. */
  static List<Integer> pcpList(Zone z, int cpu, int pindex) {
    PerCpuPages p = z.pcp(cpu);
    synchronized (p) {
      List<Integer> out = new ArrayList<>();
      for (int pfn = p.first(pindex); pfn != MemMap.NIL; pfn = z.mm.next[pfn]) {
        out.add(pfn);
      }
      return out;
    }
  }

  /** Pfns [from, to) as a list. */
  static List<Integer> range(int from, int to) {
    List<Integer> out = new ArrayList<>();
    for (int p = from; p < to; p++) {
      out.add(p);
    }
    return out;
  }

  /** Allocates order-0 pages with gfp on cpu until the allocator says no; returns how many. */
  static int allocUntilFailure(PageAllocator a, int cpu, int gfp, List<Integer> into) {
    int n = 0;
    while (true) {
      int pfn = a.allocPages(cpu, 0, gfp);
      if (pfn < 0) {
        return n;
      }
      if (into != null) {
        into.add(pfn);
      }
      n++;
    }
  }
}
