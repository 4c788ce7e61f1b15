package io.hintlab.guest.mm.view;

/**
 * {@code struct contig_page_info} (mm/vmstat.c): a zone's free memory seen from one allocation
 * order, as fill_contig_page_info() computes it from {@code free_area[].nr_free}.
 *
 * @param freePages free base pages: sum over orders of nr_free[o] &lt;&lt; o
 * @param freeBlocksTotal free blocks of any order: sum of nr_free[o]
 * @param freeBlocksSuitable free blocks of the suitable order that the free blocks at or above it
 *     make up: sum over o &gt;= suitable of nr_free[o] &lt;&lt; (o - suitable)
 */
public record ContigPageInfo(long freePages, long freeBlocksTotal, long freeBlocksSuitable) {

  /**
   * fill_contig_page_info(): the info of a zone whose free_area[o].nr_free is {@code nrFree[o]}.
   *
   * @param nrFree free blocks per order, index 0..NR_PAGE_ORDERS-1
   * @param suitableOrder the order of the allocation in question
   * @throws IllegalArgumentException if suitableOrder is not an index of nrFree
   */
  public static ContigPageInfo fill(long[] nrFree, int suitableOrder) {
    checkOrder(nrFree, suitableOrder);
    long freePages = 0;
    long total = 0;
    long suitable = 0;
    for (int order = 0; order < nrFree.length; order++) {
      long blocks = nrFree[order];
      total += blocks;
      freePages += blocks << order;
      if (order >= suitableOrder) {
        suitable += blocks << (order - suitableOrder);
      }
    }
    return new ContigPageInfo(freePages, total, suitable);
  }

  static void checkOrder(long[] nrFree, int order) {
    if (order < 0 || order >= nrFree.length) {
      throw new IllegalArgumentException(
          "order must be in [0, " + nrFree.length + "), got " + order);
    }
  }
}
