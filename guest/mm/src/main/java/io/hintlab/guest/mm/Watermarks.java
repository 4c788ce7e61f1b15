package io.hintlab.guest.mm;

import java.util.List;

/**
 * Boot-time sizing of watermarks, lowmem_reserve and per-cpu lists, as mm/page_alloc.c and
 * mm/khugepaged.c compute them.
 */
final class Watermarks {
  /** SWAP_CLUSTER_MAX. */
  static final int SWAP_CLUSTER_MAX = 32;
  /** MIN_PERCPU_PAGELIST_HIGH_FRACTION. */
  static final int MIN_PERCPU_PAGELIST_HIGH_FRACTION = 8;

  private Watermarks() {}

  static boolean isLowmem(Zone z) {
    // !is_highmem(zone) && zone_idx(zone) != ZONE_MOVABLE (x86-64 has no HIGHMEM)
    return z.type != ZoneType.MOVABLE && z.type != ZoneType.DEVICE;
  }

  /** nr_free_buffer_pages(): sum over zones up to gfp_zone(GFP_USER) of managed - high. */
  static long nrFreeBufferPages(List<Zone> zones) {
    long sum = 0;
    for (Zone z : zones) {
      if (z.type.ordinal() <= ZoneType.NORMAL.ordinal()) {
        sum += Math.max(0, z.managed - z.watermark[Zone.WMARK_HIGH]);
      }
    }
    return sum;
  }

  /**
   * calculate_min_free_kbytes(): sqrt(lowmem_kbytes * 16), clamped to [128, 262144]
   * (16 MiB -> 512 KiB, 1 GiB -> 4 MiB, 16 GiB -> 16 MiB).
   */
  static long calculateMinFreeKbytes(List<Zone> zones, Geometry geo) {
    long lowmemKbytes = nrFreeBufferPages(zones) * geo.kbPerPage();
    long v = (long) Math.floor(Math.sqrt((double) lowmemKbytes * 16));
    while (v * v > lowmemKbytes * 16) {
      v--; // int_sqrt() rounds down; correct any floating-point overshoot
    }
    return Math.max(128, Math.min(v, 262144));
  }

  /**
   * set_recommended_min_free_kbytes() (mm/khugepaged.c): two free pageblocks per zone plus
   * MIGRATE_PCPTYPES^2 pageblocks per zone for fallbacks, at most 5% of lowmem; only raises.
   */
  static long recommendedMinFreeKbytes(List<Zone> zones, Geometry geo, long current) {
    int nrZones = 0;
    for (Zone z : zones) {
      if (z.populated() && z.type.ordinal() <= ZoneType.NORMAL.ordinal()) {
        nrZones++;
      }
    }
    long nr = geo.pageblockNrPages();
    long recommended = nr * nrZones * 2;
    recommended += nr * nrZones * MigrateType.PCPTYPES * MigrateType.PCPTYPES;
    recommended = Math.min(recommended, nrFreeBufferPages(zones) / 20);
    recommended *= geo.kbPerPage();
    return Math.max(recommended, current);
  }

  /** __setup_per_zone_wmarks(): min in proportion to managed pages, low/high/promo above it. */
  static void setupPerZoneWmarks(List<Zone> zones, Geometry geo, long minFreeKbytes,
      int scaleFactor) {
    long pagesMin = minFreeKbytes / geo.kbPerPage();
    long lowmemPages = 0;
    for (Zone z : zones) {
      if (isLowmem(z)) {
        lowmemPages += z.managed;
      }
    }
    for (Zone z : zones) {
      long tmp = lowmemPages == 0 ? 0 : pagesMin * z.managed / lowmemPages;
      if (!isLowmem(z)) {
        long minPages = z.managed / 1024;
        z.watermark[Zone.WMARK_MIN] = Math.max(SWAP_CLUSTER_MAX, Math.min(minPages, 128));
      } else {
        z.watermark[Zone.WMARK_MIN] = tmp;
      }
      tmp = Math.max(tmp >> 2, z.managed * scaleFactor / 10000);
      z.watermarkBoost = 0;
      z.watermark[Zone.WMARK_LOW] = z.watermark[Zone.WMARK_MIN] + tmp;
      z.watermark[Zone.WMARK_HIGH] = z.watermark[Zone.WMARK_LOW] + tmp;
      z.watermark[Zone.WMARK_PROMO] = z.watermark[Zone.WMARK_HIGH] + tmp;
    }
  }

  /**
   * setup_per_zone_lowmem_reserve(): a lower zone keeps back the managed pages of all zones above
   * it divided by its sysctl_lowmem_reserve_ratio. {@code byType} holds every zone type's zone.
   */
  static void setupPerZoneLowmemReserve(Zone[] byType) {
    for (int i = 0; i < ZoneType.MAX_NR_ZONES - 1; i++) {
      Zone z = byType[i];
      int ratio = ZoneType.values()[i].defaultLowmemReserveRatio();
      boolean clear = ratio == 0 || z.managed == 0;
      long managed = 0;
      for (int j = i + 1; j < ZoneType.MAX_NR_ZONES; j++) {
        managed += byType[j].managed;
        z.lowmemReserve[j] = clear ? 0 : managed / ratio;
      }
    }
  }

  /** zone_batchsize(): ~0.1% of the zone or 1 MiB, whichever is smaller, as 2^n - 1. */
  static int zoneBatchsize(Zone z, Geometry geo) {
    long b = Math.min(z.managed >> 10, (1L << 20) / geo.pageSize());
    b /= 4;
    if (b < 1) {
      b = 1;
    }
    return (int) (Long.highestOneBit(b + b / 2) - 1);
  }

  /** zone_highsize(): the low watermark (or managed/fraction) split over the cpus, >= 4 batches. */
  static int zoneHighsize(Zone z, int batch, int nrCpus, int highFraction) {
    long total = highFraction == 0 ? z.watermark[Zone.WMARK_LOW] : z.managed / highFraction;
    long high = total / nrCpus;
    return (int) Math.max(high, (long) batch << 2);
  }

  /** zone_set_pageset_high_and_batch(), or the boot pageset (high 0, batch 1) with pcp off. */
  static void setPagesetHighAndBatch(Zone z, MmConfig cfg) {
    int highMin;
    int highMax;
    int batch;
    if (!cfg.pcp()) {
      highMin = 0;
      highMax = 0;
      batch = 1;
    } else {
      batch = Math.max(1, zoneBatchsize(z, cfg.geometry()));
      int f = cfg.percpuPagelistHighFraction();
      if (f != 0) {
        highMin = zoneHighsize(z, batch, cfg.nrCpus(), f);
        highMax = highMin;
      } else {
        highMin = zoneHighsize(z, batch, cfg.nrCpus(), 0);
        highMax = zoneHighsize(z, batch, cfg.nrCpus(), MIN_PERCPU_PAGELIST_HIGH_FRACTION);
      }
    }
    for (PerCpuPages p : z.pcp) {
      p.setHighAndBatch(highMin, highMax, batch);
    }
  }
}
