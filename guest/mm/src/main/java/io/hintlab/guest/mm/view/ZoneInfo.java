package io.hintlab.guest.mm.view;

import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.PerCpuPages;
import io.hintlab.guest.mm.Zone;
import io.hintlab.guest.mm.ZoneType;

/**
 * /proc/zoneinfo, as zoneinfo_show_print() (mm/vmstat.c, v6.17) prints it: every zone, populated
 * or not, with its free pages, watermarks, sizes and protection (lowmem_reserve); populated zones
 * also with their counters, per-cpu pagesets, stat thresholds and start pfn.
 *
 * <p>Watermarks are printed as min_wmark_pages() etc. do, that is {@code _watermark[w] +
 * watermark_boost}, with the boost itself on the "boost" line.
 *
 * <p>What is left out, because the model does not maintain it (a real kernel prints it here):
 *
 * <ul>
 *   <li>the node_stat_item lines under "per-node stats" (LRU, slab, page cache, workingset,
 *       kernel stack, page tables, swap cache, demotion, hugetlb, nr_balloon_pages): the header
 *       line is printed, for the first populated zone as the kernel does, with no items under it;
 *   <li>the zone_stat_item counters of LRU lists, mlock, zsmalloc and unaccepted memory (see
 *       {@link ZoneStat}); nr_free_pages, nr_free_pages_blocks and nr_free_cma are printed;
 *   <li>the CONFIG_NUMA event lines (numa_hit, numa_miss, ...): the model counts pages, not
 *       allocation calls, and has one node.
 * </ul>
 *
 * <p>"vm stats threshold" is calculate_normal_threshold() of the zone (what
 * refresh_zone_stat_thresholds() sets; the model has no kswapd to lower it to the pressure
 * threshold) and "node_unreclaimable" is 0 (the model has no kswapd reclaim that could fail).
 */
public final class ZoneInfo {
  private ZoneInfo() {}

  /** The text of /proc/zoneinfo for the model's node. */
  public static String render(PageAllocator a) {
    StringBuilder sb = new StringBuilder();
    Zone firstPopulated = a.zones().isEmpty() ? null : a.zones().get(0);
    for (Zone z : a.allZones()) {
      appendZone(sb, a, z, z == firstPopulated);
    }
    return sb.toString();
  }

  private static void appendZone(StringBuilder sb, PageAllocator a, Zone z, boolean first) {
    Fmt.nodeZone(sb, z);
    if (first) {
      // The node_stat_item lines would follow; the model maintains none of them.
      sb.append("\n  per-node stats");
    }
    // Per-cpu fields first, under their own monitors: the lock order is pcp, then zone.
    int[][] pagesets = z.populated() ? pagesets(z, a.nrCpus()) : null;
    z.lock.lock();
    try {
      sb.append("\n  pages free     ").append(z.freePages());
      sb.append("\n        boost    ").append(z.watermarkBoost());
      sb.append("\n        min      ").append(z.wmarkPages(Zone.WMARK_MIN));
      sb.append("\n        low      ").append(z.wmarkPages(Zone.WMARK_LOW));
      sb.append("\n        high     ").append(z.wmarkPages(Zone.WMARK_HIGH));
      sb.append("\n        promo    ").append(z.wmarkPages(Zone.WMARK_PROMO));
      sb.append("\n        spanned  ").append(z.spannedPages());
      sb.append("\n        present  ").append(z.presentPages());
      sb.append("\n        managed  ").append(z.managedPages());
      sb.append("\n        cma      ").append(z.cmaPages());
      sb.append("\n        protection: (").append(z.lowmemReserve(0));
      for (int i = 1; i < ZoneType.MAX_NR_ZONES; i++) {
        sb.append(", ").append(z.lowmemReserve(i));
      }
      sb.append(')');
      if (!z.populated()) {
        // "If unpopulated, no other information is useful"
        sb.append('\n');
        return;
      }
      for (ZoneStat item : ZoneStat.values()) {
        stat(sb, item.procName(), item.value(z));
      }
    } finally {
      z.lock.unlock();
    }
    int threshold = statThreshold(z.managedPages(), a.nrCpus(), z.geometry().pageShift());
    sb.append("\n  pagesets");
    for (int cpu = 0; cpu < pagesets.length; cpu++) {
      int[] p = pagesets[cpu];
      sb.append("\n    cpu: ").append(cpu);
      sb.append("\n              count:    ").append(p[0]);
      sb.append("\n              high:     ").append(p[1]);
      sb.append("\n              batch:    ").append(p[2]);
      sb.append("\n              high_min: ").append(p[3]);
      sb.append("\n              high_max: ").append(p[4]);
      sb.append("\n  vm stats threshold: ").append(threshold);
    }
    sb.append("\n  node_unreclaimable:  ").append(0);
    sb.append("\n  start_pfn:           ").append(z.startPfn());
    sb.append('\n');
  }

  /** {@code "\n      %-12s %lu"}: one counter line. */
  private static void stat(StringBuilder sb, String name, long value) {
    sb.append("\n      ");
    Fmt.left(sb, name, 12).append(' ').append(value);
  }

  /** count, high, batch, high_min, high_max of every cpu's pageset of the zone. */
  private static int[][] pagesets(Zone z, int nrCpus) {
    int[][] out = new int[nrCpus][];
    for (int cpu = 0; cpu < nrCpus; cpu++) {
      PerCpuPages p = z.pcp(cpu);
      synchronized (p) {
        out[cpu] = new int[] {p.count(), p.high(), p.batch(), p.highMin(), p.highMax()};
      }
    }
    return out;
  }

  /**
   * calculate_normal_threshold() (mm/vmstat.c): {@code 2 * fls(num_online_cpus()) * (1 +
   * fls(managed >> (27 - PAGE_SHIFT)))}, at most 125; memory is counted in 128 MiB units.
   *
   * @param managedPages the zone's managed pages
   * @param nrCpus online cpus
   * @param pageShift PAGE_SHIFT
   */
  static int statThreshold(long managedPages, int nrCpus, int pageShift) {
    long mem = managedPages >> (27 - pageShift);
    int threshold = 2 * fls(nrCpus) * (1 + fls(mem));
    return Math.min(125, threshold);
  }

  /** fls(): the 1-based position of the highest set bit, 0 for 0. */
  private static int fls(long x) {
    return Long.SIZE - Long.numberOfLeadingZeros(x);
  }
}
