package io.hintlab.guest.mm.view;

import io.hintlab.guest.mm.Geometry;
import io.hintlab.guest.mm.MemMap;
import io.hintlab.guest.mm.MigrateType;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.Zone;

/**
 * /proc/pagetypeinfo, as pagetypeinfo_show() (mm/vmstat.c) prints it: the pageblock header,
 * free blocks per zone, migratetype and order (pagetypeinfo_showfree_print()), then pageblocks
 * per zone and migratetype (pagetypeinfo_showblockcount_print()).
 *
 * <p>The migratetypes printed are those of the configured kernel: Unmovable, Movable,
 * Reclaimable, HighAtomic, CMA only with CONFIG_CMA ({@code MmConfig.cma()}), and Isolate
 * (CONFIG_MEMORY_ISOLATION, always on in the model). The "Number of mixed blocks" section of
 * CONFIG_PAGE_OWNER kernels is not printed: the model has no page_owner.
 */
public final class PageTypeInfo {
  /** The kernel stops walking a free list at this many entries and prints "&gt;" before it. */
  public static final int FREE_COUNT_CAP = 100000;

  private static final String FREE_HEADER = "Free pages count per migrate type at order";
  private static final String BLOCKS_HEADER = "Number of blocks type ";

  private PageTypeInfo() {}

  /** The text of /proc/pagetypeinfo for the model's node. */
  public static String render(PageAllocator a) {
    Geometry geo = a.geometry();
    int[] types = migratetypes(a.config().cma());
    StringBuilder sb = new StringBuilder();
    sb.append("Page block order: ").append(geo.pageblockOrder()).append('\n');
    sb.append("Pages per block:  ").append(geo.pageblockNrPages()).append('\n');
    sb.append('\n');
    // pagetypeinfo_showfree()
    Fmt.left(sb, FREE_HEADER, 43).append(' ');
    for (int order = 0; order < geo.nrPageOrders(); order++) {
      Fmt.right(sb, order, 6).append(' ');
    }
    sb.append('\n');
    for (Zone z : a.zones()) {
      appendFreeCounts(sb, z, types);
    }
    // pagetypeinfo_showblockcount()
    sb.append('\n');
    Fmt.left(sb, BLOCKS_HEADER, 23);
    for (int mt : types) {
      Fmt.right(sb, MigrateType.name(mt), 12).append(' ');
    }
    sb.append('\n');
    for (Zone z : a.zones()) {
      long[] count = pageblockCounts(z);
      Fmt.nodeZone(sb, z).append(' ');
      for (int mt : types) {
        Fmt.right(sb, count[mt], 12).append(' ');
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  /** The migratetypes a kernel with or without CONFIG_CMA prints, in enum order. */
  static int[] migratetypes(boolean cma) {
    return cma
        ? new int[] {
          MigrateType.UNMOVABLE, MigrateType.MOVABLE, MigrateType.RECLAIMABLE,
          MigrateType.HIGHATOMIC, MigrateType.CMA, MigrateType.ISOLATE
        }
        : new int[] {
          MigrateType.UNMOVABLE, MigrateType.MOVABLE, MigrateType.RECLAIMABLE,
          MigrateType.HIGHATOMIC, MigrateType.ISOLATE
        };
  }

  /** pagetypeinfo_showfree_print() for one zone, under its lock. */
  private static void appendFreeCounts(StringBuilder sb, Zone z, int[] types) {
    int orders = z.geometry().nrPageOrders();
    z.lock.lock();
    try {
      for (int mt : types) {
        sb.append("Node ");
        Fmt.right(sb, Fmt.NODE_ID, 4).append(", zone ");
        Fmt.right(sb, z.name(), 8).append(", type ");
        Fmt.right(sb, MigrateType.name(mt), 12).append(' ');
        for (int order = 0; order < orders; order++) {
          sb.append(freeCount(z.freeListLength(order, mt)));
        }
        sb.append('\n');
      }
    } finally {
      z.lock.unlock();
    }
  }

  /**
   * {@code "%s%6lu "} of one free list's length as the kernel's capped walk reports it: it
   * counts entries and stops once the count reaches {@link #FREE_COUNT_CAP}, so a list of
   * 100000 or more entries prints {@code ">100000 "}.
   */
  static String freeCount(long listLength) {
    boolean overflow = listLength >= FREE_COUNT_CAP;
    long shown = overflow ? FREE_COUNT_CAP : listLength;
    StringBuilder sb = new StringBuilder(overflow ? ">" : "");
    return Fmt.right(sb, shown, 6).append(' ').toString();
  }

  /**
   * pagetypeinfo_showblockcount_print(): pageblocks per migratetype, stepping pageblock_nr_pages
   * from zone_start_pfn; an isolated pageblock counts as Isolate (get_pfnblock_migratetype()).
   * Read under the zone lock, which guards the pageblock bits.
   */
  static long[] pageblockCounts(Zone z) {
    long[] count = new long[MigrateType.TYPES];
    MemMap mm = z.memMap();
    int step = z.geometry().pageblockNrPages();
    z.lock.lock();
    try {
      for (long pfn = z.startPfn(); pfn < z.endPfn(); pfn += step) {
        count[mm.getPfnblockMigratetype((int) pfn)]++;
      }
    } finally {
      z.lock.unlock();
    }
    return count;
  }
}
