package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MemMap.NIL;
import static io.hintlab.guest.mm.MigrateType.HIGHATOMIC;
import static io.hintlab.guest.mm.MigrateType.TYPES;

/**
 * The HIGHATOMIC reserve of a zone (mm/page_alloc.c): pageblocks set aside after high-order
 * atomic allocations so that later ones find a block, and given back when blocking allocations
 * would otherwise fail.
 */
final class HighatomicReserve {
  private HighatomicReserve() {}

  /**
   * reserve_highatomic_pageblock(): after a high-order atomic allocation, turn its pageblock into
   * a HIGHATOMIC reserve, up to about 1% of the zone.
   */
  static void reserve(Zone z, int pfn, int order) {
    long maxManaged = z.managed / 100;
    if (maxManaged < z.geo.pageblockNrPages()) {
      return;
    }
    long nr = z.geo.pageblockNrPages();
    maxManaged = (maxManaged + nr - 1) / nr * nr;
    if (z.nrReservedHighatomic >= maxManaged) {
      return;
    }
    z.lock.lock();
    try {
      if (z.nrReservedHighatomic >= maxManaged) {
        return;
      }
      int mt = z.mm.getPfnblockMigratetype(pfn);
      if (!MigrateType.isMergeable(mt)) {
        return;
      }
      if (order < z.geo.pageblockOrder()) {
        if (z.moveFreepagesBlock(pfn, mt, HIGHATOMIC) == -1) {
          return;
        }
        z.nrReservedHighatomic += z.geo.pageblockNrPages();
      } else {
        z.changePageblockRange(pfn, order, HIGHATOMIC);
        z.nrReservedHighatomic += 1L << order;
      }
    } finally {
      z.lock.unlock();
    }
  }

  /**
   * One zone's part of unreserve_highatomic_pageblock(): give a HIGHATOMIC pageblock back to the
   * allocating type. Without force, one pageblock stays reserved.
   *
   * @return whether a pageblock was given back
   */
  static boolean unreserve(Zone z, int mt, boolean force) {
    if (!force && z.nrReservedHighatomic <= z.geo.pageblockNrPages()) {
      return false;
    }
    z.lock.lock();
    try {
      for (int o = 0; o < z.geo.nrPageOrders(); o++) {
        int pfn = z.listHead[o * TYPES + HIGHATOMIC];
        if (pfn == NIL) {
          continue;
        }
        long size = Math.max(z.geo.pageblockNrPages(), 1L << o);
        size = Math.min(size, z.nrReservedHighatomic);
        z.nrReservedHighatomic -= size;
        int ret;
        if (o < z.geo.pageblockOrder()) {
          ret = z.moveFreepagesBlock(pfn, HIGHATOMIC, mt);
        } else {
          z.moveToFreeList(pfn, o, HIGHATOMIC, mt);
          z.changePageblockRange(pfn, o, mt);
          ret = 1;
        }
        if (ret > 0) {
          return true;
        }
      }
      return false;
    } finally {
      z.lock.unlock();
    }
  }
}
