package io.hintlab.guest.mm.view;

import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.VmEvent;
import io.hintlab.guest.mm.Zone;

/**
 * /proc/vmstat, as vmstat_start()/vmstat_show() (mm/vmstat.c, v6.17) print it: {@code "name
 * value\n"} per item in vmstat_text[] order (zone items summed over the node's zones, then NUMA
 * events, node items, system-wide items, event counters), then the deprecated constant line
 * {@code "nr_unstable 0"} that v6.17 still appends after the last item.
 *
 * <p>Only the items the model maintains are printed: the zone items of {@link ZoneStat}
 * (nr_free_pages, nr_free_pages_blocks, nr_free_cma) and the event counters of {@link VmEvent}
 * (pgalloc_*, pgfree, pgmigrate_*, compact_*, cma_alloc_* (only with CONFIG_CMA, as the kernel
 * prints them only then), balloon_*), in the kernel's relative order. Left out: NUMA events,
 * every node_stat_item (LRU, slab, page cache, workingset, ...), nr_dirty_threshold,
 * nr_dirty_background_threshold, nr_memmap_pages, nr_memmap_boot_pages, and the events of
 * mechanisms the model lacks (reclaim, faults, swap, THP, ...).
 */
public final class VmStat {
  private VmStat() {}

  /** The text of /proc/vmstat for the model. */
  public static String render(PageAllocator a) {
    StringBuilder sb = new StringBuilder();
    ZoneStat[] items = ZoneStat.values();
    long[] sums = new long[items.length];
    // global_zone_page_state(): the zones' counters summed (unpopulated zones hold 0)
    for (Zone z : a.zones()) {
      z.lock.lock();
      try {
        for (ZoneStat item : items) {
          sums[item.ordinal()] += item.value(z);
        }
      } finally {
        z.lock.unlock();
      }
    }
    for (ZoneStat item : items) {
      line(sb, item.procName(), sums[item.ordinal()]);
    }
    boolean cma = a.config().cma();
    for (VmEvent e : VmEvent.values()) {
      if (!cma && (e == VmEvent.CMA_ALLOC_SUCCESS || e == VmEvent.CMA_ALLOC_FAIL)) {
        continue; // #ifdef CONFIG_CMA
      }
      line(sb, e.procName(), a.event(e));
    }
    sb.append("nr_unstable 0\n");
    return sb.toString();
  }

  private static void line(StringBuilder sb, String name, long value) {
    sb.append(name).append(' ').append(value).append('\n');
  }
}
