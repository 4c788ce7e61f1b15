package io.hintlab.guest.mm.view;

import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.Zone;
import java.util.Locale;

/**
 * The fragmentation indices of mm/vmstat.c and their debugfs views,
 * /sys/kernel/debug/extfrag/extfrag_index (extfrag_show_print()) and
 * /sys/kernel/debug/extfrag/unusable_index (unusable_show_print()).
 *
 * <p>The index functions take {@code nr_free} per order so that compaction (compaction_suitable()
 * uses fragmentation_index()) can call them on any snapshot; {@link #nrFree(Zone)} takes one.
 * Indices are in thousandths, as the kernel's ints are.
 */
public final class ExtFrag {
  /** What __fragmentation_index() returns when a suitable free block exists. */
  public static final int SUITABLE_BLOCK_EXISTS = -1000;

  private ExtFrag() {}

  /**
   * free_area[order].nr_free for every order of a zone, read under the zone lock (as
   * walk_zones_in_node() holds it) so that the orders are consistent with one another.
   */
  public static long[] nrFree(Zone z) {
    int orders = z.geometry().nrPageOrders();
    long[] nrFree = new long[orders];
    z.lock.lock();
    try {
      for (int o = 0; o < orders; o++) {
        nrFree[o] = z.nrFree(o);
      }
    } finally {
      z.lock.unlock();
    }
    return nrFree;
  }

  /**
   * __fragmentation_index(): for an allocation of 2^order pages that would fail, whether it
   * fails for lack of memory (toward 0) or because free memory is fragmented (toward 1000).
   * Returns 0 when there is no free block at all and {@link #SUITABLE_BLOCK_EXISTS} (-1000) when
   * the allocation would succeed; otherwise {@code 1000 - (1000 + free_pages * 1000 / 2^order) /
   * free_blocks_total} with the kernel's integer divisions. That value can fall below 0 (down to
   * -999) when few, small blocks are free: the kernel does not clamp it and neither does this.
   *
   * @param nrFree free blocks per order
   * @param order the requested order
   * @throws IllegalArgumentException if order is not an index of nrFree (the kernel WARNs and
   *     returns 0)
   */
  public static int fragmentationIndex(long[] nrFree, int order) {
    return fragmentationIndex(order, ContigPageInfo.fill(nrFree, order));
  }

  /** __fragmentation_index() on an already filled info (whose suitable order is {@code order}). */
  public static int fragmentationIndex(int order, ContigPageInfo info) {
    if (order < 0 || order >= Long.SIZE - 1) {
      throw new IllegalArgumentException("order must be in [0, 63), got " + order);
    }
    long requested = 1L << order;
    if (info.freeBlocksTotal() == 0) {
      return 0;
    }
    if (info.freeBlocksSuitable() != 0) {
      return SUITABLE_BLOCK_EXISTS;
    }
    return (int) (1000 - (1000 + info.freePages() * 1000 / requested) / info.freeBlocksTotal());
  }

  /**
   * unusable_free_index(): the share of free memory, in thousandths, that is in blocks too small
   * for an allocation of 2^order pages; 1000 when nothing is free.
   *
   * @param nrFree free blocks per order
   * @param order the requested order
   * @throws IllegalArgumentException if order is not an index of nrFree
   */
  public static int unusableFreeIndex(long[] nrFree, int order) {
    ContigPageInfo info = ContigPageInfo.fill(nrFree, order);
    if (info.freePages() == 0) {
      return 1000;
    }
    return (int) ((info.freePages() - (info.freeBlocksSuitable() << order)) * 1000
        / info.freePages());
  }

  /**
   * extfrag_for_order(): the same share in percent (proactive compaction's score); 0 when nothing
   * is free.
   *
   * @param nrFree free blocks per order
   * @param order the requested order
   * @throws IllegalArgumentException if order is not an index of nrFree
   */
  public static int extfragForOrder(long[] nrFree, int order) {
    ContigPageInfo info = ContigPageInfo.fill(nrFree, order);
    if (info.freePages() == 0) {
      return 0;
    }
    return (int) ((info.freePages() - (info.freeBlocksSuitable() << order)) * 100
        / info.freePages());
  }

  /**
   * extfrag/extfrag_index: per populated zone {@code "Node %d, zone %8s "} then {@code "%2d.%03d "}
   * of the fragmentation index per order ({@code -1.000} where a suitable block exists).
   */
  public static String renderExtfragIndex(PageAllocator a) {
    return render(a, true);
  }

  /**
   * extfrag/unusable_index: per populated zone {@code "Node %d, zone %8s "} then {@code "%d.%03d "}
   * of the unusable free space index per order.
   */
  public static String renderUnusableIndex(PageAllocator a) {
    return render(a, false);
  }

  private static String render(PageAllocator a, boolean extfrag) {
    StringBuilder sb = new StringBuilder();
    for (Zone z : a.zones()) {
      long[] nrFree = nrFree(z);
      Fmt.nodeZone(sb, z).append(' ');
      for (int order = 0; order < nrFree.length; order++) {
        int index = extfrag ? fragmentationIndex(nrFree, order) : unusableFreeIndex(nrFree, order);
        sb.append(formatIndex(index, extfrag));
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  /**
   * {@code "%2d.%03d "} (extfrag) or {@code "%d.%03d "} (unusable) of index / 1000 and index %
   * 1000, with C's truncating division: -1000 prints "-1.000", -500 prints " 0.-500".
   */
  static String formatIndex(int index, boolean extfrag) {
    return String.format(Locale.ROOT, extfrag ? "%2d.%03d " : "%d.%03d ", index / 1000,
        index % 1000);
  }
}
