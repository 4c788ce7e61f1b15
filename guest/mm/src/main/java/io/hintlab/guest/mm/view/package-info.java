/**
 * Kernel-faithful text views of the allocator model: /proc/buddyinfo, /proc/pagetypeinfo,
 * /proc/zoneinfo, /proc/vmstat and the debugfs files extfrag/extfrag_index and
 * extfrag/unusable_index, byte for byte in the layout of Linux v6.16/6.17 mm/vmstat.c.
 *
 * <p>Every view is a final class with a static {@code render(PageAllocator)}; {@link
 * io.hintlab.guest.mm.view.ProcView} maps the names the CLI accepts to them. The views print one
 * node (node 0), as the model has one.
 *
 * <p><b>What is printed.</b> The layout (headers, field widths, trailing spaces, line order) is
 * the kernel's. A counter line appears only if the model maintains that counter; the kernel's
 * counters of mechanisms the model does not have (LRU lists, page cache, slab, NUMA statistics,
 * dirty limits) are left out rather than printed as invented zeros. See {@link
 * io.hintlab.guest.mm.view.ZoneInfo} and {@link io.hintlab.guest.mm.view.VmStat} for the lists.
 *
 * <p><b>Locking.</b> Like walk_zones_in_node(), each view holds a zone's {@code lock} while it
 * reads that zone's free lists, pageblock bits and counters. Per-cpu pageset fields are read
 * before the zone lock is taken, through their own monitor: the model's lock order is pcp, then
 * zone, never the other way round.
 */
package io.hintlab.guest.mm.view;
