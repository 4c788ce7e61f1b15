package io.hintlab.guest.mm.proc;

import io.hintlab.guest.mm.MigrateType;
import io.hintlab.guest.mm.ZoneType;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The content of one node's /proc/pagetypeinfo: the geometry it was printed with, the
 * migratetypes the kernel was built with, and per populated zone the free blocks per migratetype
 * and order (pagetypeinfo_showfree_print()) and the pageblocks per migratetype
 * (pagetypeinfo_showblockcount_print()).
 *
 * @param pageblockOrder pageblock_order ("Page block order: 9")
 * @param nrPageOrders NR_PAGE_ORDERS: the number of order columns of the free counts
 * @param nodeId the NUMA node the rows are for
 * @param typeNames the migratetype names the file lists, in the kernel's order (no "CMA" without
 *     CONFIG_CMA, no "Isolate" without CONFIG_MEMORY_ISOLATION)
 * @param zones the populated zones, in zone order
 */
public record PagetypeinfoData(
    int pageblockOrder, int nrPageOrders, int nodeId, List<String> typeNames,
    List<ZoneCounts> zones) {

  /** Validates the record and makes its lists immutable. */
  public PagetypeinfoData {
    if (pageblockOrder < 0 || nrPageOrders < 1 || pageblockOrder >= nrPageOrders) {
      throw new IllegalArgumentException("pageblockOrder must be in [0, nrPageOrders), got "
          + pageblockOrder + " with " + nrPageOrders + " orders");
    }
    typeNames = List.copyOf(typeNames);
    zones = List.copyOf(zones);
    for (String name : typeNames) {
      if (MigrateType.byName(name) < 0) {
        throw new IllegalArgumentException("unknown migratetype " + name);
      }
    }
    for (ZoneCounts z : zones) {
      if (z.nrPageOrders() != nrPageOrders) {
        throw new IllegalArgumentException("zone " + z.zone().kernelName() + " has "
            + z.nrPageOrders() + " orders, expected " + nrPageOrders);
      }
    }
  }

  /** Whether the file lists migratetype mt ({@link MigrateType} int). */
  public boolean hasType(int mt) {
    return typeNames.contains(MigrateType.name(mt));
  }

  /** The counts of a zone, if the file has it. */
  public Optional<ZoneCounts> zone(ZoneType type) {
    return zones.stream().filter(z -> z.zone() == type).findFirst();
  }

  /**
   * The free and pageblock counts of one zone, indexed by {@link MigrateType} int (types the file
   * does not list are zero). Immutable.
   */
  public static final class ZoneCounts {
    private final ZoneType zone;
    private final int nrPageOrders;
    private final long[] free;
    private final boolean[] capped;
    private final long[] blocks;

    /**
     * Creates the counts of one zone.
     *
     * @param zone the zone type
     * @param free free[mt][order]: blocks on free_list[mt] of free_area[order]
     * @param capped capped[mt][order]: the kernel printed "&gt;" (its list walk stopped at the
     *     cap of 100000); may be null for none
     * @param blocks blocks[mt]: pageblocks whose get_pfnblock_migratetype() is mt
     * @throws IllegalArgumentException on wrong shapes or negative counts
     */
    public ZoneCounts(ZoneType zone, long[][] free, boolean[][] capped, long[] blocks) {
      if (zone == null || free == null || blocks == null) {
        throw new IllegalArgumentException("zone, free and blocks must not be null");
      }
      if (free.length != MigrateType.TYPES || blocks.length != MigrateType.TYPES
          || (capped != null && capped.length != MigrateType.TYPES)) {
        throw new IllegalArgumentException("counts must be indexed by the "
            + MigrateType.TYPES + " migratetypes");
      }
      this.zone = zone;
      this.nrPageOrders = free[0].length;
      this.free = new long[MigrateType.TYPES * nrPageOrders];
      this.capped = new boolean[MigrateType.TYPES * nrPageOrders];
      for (int mt = 0; mt < MigrateType.TYPES; mt++) {
        if (free[mt].length != nrPageOrders
            || (capped != null && capped[mt].length != nrPageOrders)) {
          throw new IllegalArgumentException("every migratetype needs " + nrPageOrders + " orders");
        }
        for (int o = 0; o < nrPageOrders; o++) {
          if (free[mt][o] < 0) {
            throw new IllegalArgumentException("free counts must be >= 0");
          }
          this.free[mt * nrPageOrders + o] = free[mt][o];
          this.capped[mt * nrPageOrders + o] = capped != null && capped[mt][o];
        }
      }
      this.blocks = blocks.clone();
      for (long b : this.blocks) {
        if (b < 0) {
          throw new IllegalArgumentException("block counts must be >= 0");
        }
      }
    }

    /** The zone type. */
    public ZoneType zone() {
      return zone;
    }

    /** Number of orders. */
    public int nrPageOrders() {
      return nrPageOrders;
    }

    /** Free blocks of order on the free list of migratetype mt. */
    public long free(int mt, int order) {
      return free[mt * nrPageOrders + order];
    }

    /** Whether the count of (mt, order) was printed with "&gt;" (capped at 100000). */
    public boolean capped(int mt, int order) {
      return capped[mt * nrPageOrders + order];
    }

    /** Pageblocks of migratetype mt. */
    public long blocks(int mt) {
      return blocks[mt];
    }

    /** Pageblocks of all types: the zone's size in pageblocks. */
    public long totalBlocks() {
      long n = 0;
      for (long b : blocks) {
        n += b;
      }
      return n;
    }

    /** Pages in the free blocks of all types (isolated ones included); saturates at MAX. */
    public long freePages() {
      long pages = 0;
      for (int mt = 0; mt < MigrateType.TYPES; mt++) {
        for (int o = 0; o < nrPageOrders; o++) {
          long n = free(mt, o);
          if (n > (Long.MAX_VALUE - pages) >> o) {
            return Long.MAX_VALUE;
          }
          pages += n << o;
        }
      }
      return pages;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ZoneCounts z
          && zone == z.zone
          && Arrays.equals(free, z.free)
          && Arrays.equals(capped, z.capped)
          && Arrays.equals(blocks, z.blocks);
    }

    @Override
    public int hashCode() {
      return zone.hashCode() * 31 + Arrays.hashCode(free) * 17 + Arrays.hashCode(blocks);
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder("ZoneCounts[").append(zone.kernelName());
      for (int mt = 0; mt < MigrateType.TYPES; mt++) {
        sb.append(", ").append(MigrateType.name(mt)).append(" free=[");
        for (int o = 0; o < nrPageOrders; o++) {
          sb.append(o == 0 ? "" : " ").append(capped(mt, o) ? ">" : "").append(free(mt, o));
        }
        sb.append("] blocks=").append(blocks[mt]);
      }
      return sb.append(']').toString();
    }
  }
}
