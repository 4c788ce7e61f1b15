package io.hintlab.guest.mm.view;

import io.hintlab.guest.mm.Zone;
import java.util.function.ToLongFunction;

/**
 * The {@code enum zone_stat_item} counters (include/linux/mmzone.h) that the model maintains, in
 * the kernel's order, with the names vmstat_text[] (mm/vmstat.c, v6.17) gives them. /proc/zoneinfo
 * prints them per zone and /proc/vmstat summed over the zones.
 *
 * <p>v6.17 has, in order: nr_free_pages, nr_free_pages_blocks, nr_zone_inactive_anon,
 * nr_zone_active_anon, nr_zone_inactive_file, nr_zone_active_file, nr_zone_unevictable,
 * nr_zone_write_pending, nr_mlock, nr_zspages (CONFIG_ZSMALLOC), nr_free_cma, nr_unaccepted
 * (CONFIG_UNACCEPTED_MEMORY). The LRU, mlock, zsmalloc and unaccepted-memory counters are left
 * out: the model has no LRU lists, page cache, mlock, zsmalloc or unaccepted memory, so it does
 * not know what a kernel would count there and prints nothing rather than invented zeros.
 */
enum ZoneStat {
  NR_FREE_PAGES("nr_free_pages", Zone::freePages),
  /** v6.15+: free pages in buddies of order &gt;= pageblock_order, isolated ones excluded. */
  NR_FREE_PAGES_BLOCKS("nr_free_pages_blocks", Zone::freePagesBlocks),
  NR_FREE_CMA_PAGES("nr_free_cma", Zone::freeCmaPages);

  private final String procName;
  private final ToLongFunction<Zone> value;

  ZoneStat(String procName, ToLongFunction<Zone> value) {
    this.procName = procName;
    this.value = value;
  }

  /** The name vmstat_text[] gives the item. */
  String procName() {
    return procName;
  }

  /** zone_page_state(zone, item); the caller holds the zone lock for a consistent snapshot. */
  long value(Zone z) {
    return value.applyAsLong(z);
  }
}
