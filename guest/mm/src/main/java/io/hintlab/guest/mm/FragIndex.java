package io.hintlab.guest.mm;

/**
 * The two fragmentation measures compaction uses (mm/vmstat.c): __fragmentation_index() for
 * compaction_suitable() and extfrag_for_order() for the proactive fragmentation score. They read
 * free_area[].nr_free without the zone lock, as the kernel does. (The view package prints the same
 * indices; this package may not depend on it, so the few lines are repeated here.)
 */
final class FragIndex {
  private FragIndex() {}

  /**
   * fragmentation_index(): -1000 if a free block of the order exists, 0 if nothing is free, else
   * {@code 1000 - (1000 + free_pages * 1000 / 2^order) / free_blocks_total}: toward 0 the
   * allocation fails for lack of memory, toward 1000 because of fragmentation.
   */
  static int fragmentationIndex(Zone z, int order) {
    long total = 0;
    long freePages = 0;
    long suitable = 0;
    for (int o = 0; o < z.geo.nrPageOrders(); o++) {
      long blocks = z.nrFree[o];
      total += blocks;
      freePages += blocks << o;
      if (o >= order) {
        suitable += blocks << (o - order);
      }
    }
    if (total == 0) {
      return 0;
    }
    if (suitable != 0) {
      return -1000;
    }
    return (int) (1000 - (1000 + freePages * 1000 / (1L << order)) / total);
  }

  /**
   * extfrag_for_order(): the percentage of free memory in blocks smaller than 2^order; 0 when
   * nothing is free.
   */
  static int extfragForOrder(Zone z, int order) {
    long freePages = 0;
    long suitable = 0;
    for (int o = 0; o < z.geo.nrPageOrders(); o++) {
      long blocks = z.nrFree[o];
      freePages += blocks << o;
      if (o >= order) {
        suitable += blocks << (o - order);
      }
    }
    if (freePages == 0) {
      return 0;
    }
    return (int) ((freePages - (suitable << order)) * 100 / freePages);
  }
}
