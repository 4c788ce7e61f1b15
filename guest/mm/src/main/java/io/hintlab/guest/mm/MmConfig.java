package io.hintlab.guest.mm;

import java.util.ArrayList;
import java.util.List;

/**
 * Configuration of an allocator model: geometry, zone layout, cpus and the sysctls that shape
 * watermarks and per-cpu lists. Build one with {@link #forMemory(long)} or {@link #builder()}.
 *
 * @param geometry page geometry
 * @param zones zone layout, in zone-type order, non-overlapping
 * @param nrCpus modelled cpus (one per allocating thread)
 * @param minFreeKbytes vm.min_free_kbytes, or -1 to compute it as the kernel does at boot
 * @param thp CONFIG_TRANSPARENT_HUGEPAGE with khugepaged: THP pcp lists at pageblock order and
 *     the recommended min_free_kbytes of set_recommended_min_free_kbytes()
 * @param pcp per-cpu lists on; off models the boot pageset (high 0, batch 1: every free goes to
 *     the buddy)
 * @param watermarkScaleFactor vm.watermark_scale_factor (default 10)
 * @param watermarkBoostFactor vm.watermark_boost_factor (default 15000)
 * @param percpuPagelistHighFraction vm.percpu_pagelist_high_fraction (default 0: auto-tuned)
 * @param cma CONFIG_CMA: whether the CMA type exists (and is printed by the views)
 */
public record MmConfig(
    Geometry geometry,
    List<ZoneSpec> zones,
    int nrCpus,
    long minFreeKbytes,
    boolean thp,
    boolean pcp,
    int watermarkScaleFactor,
    int watermarkBoostFactor,
    int percpuPagelistHighFraction,
    boolean cma) {

  /** x86-64: ZONE_DMA ends at 16 MiB. */
  static final long DMA_LIMIT = 16L << 20;
  /** x86-64: ZONE_DMA32 ends at 4 GiB. */
  static final long DMA32_LIMIT = 4L << 30;

  /** Validates the configuration. */
  public MmConfig {
    if (geometry == null) {
      throw new IllegalArgumentException("geometry must be set");
    }
    zones = List.copyOf(zones);
    if (zones.isEmpty()) {
      throw new IllegalArgumentException("at least one zone is required");
    }
    for (int i = 1; i < zones.size(); i++) {
      ZoneSpec a = zones.get(i - 1);
      ZoneSpec b = zones.get(i);
      if (b.type().ordinal() <= a.type().ordinal()) {
        throw new IllegalArgumentException("zones must be in zone-type order without repeats");
      }
      if (b.startPfn() < a.endPfn()) {
        throw new IllegalArgumentException(
            "zone " + b.type().kernelName() + " overlaps zone " + a.type().kernelName());
      }
    }
    if (nrCpus < 1 || nrCpus > 1024) {
      throw new IllegalArgumentException("nrCpus must be in [1, 1024], got " + nrCpus);
    }
    if (minFreeKbytes < -1) {
      throw new IllegalArgumentException("minFreeKbytes must be >= 0 (or -1 for the default)");
    }
    if (watermarkScaleFactor < 1 || watermarkScaleFactor > 3000) {
      // proc_dointvec_minmax range of vm.watermark_scale_factor
      throw new IllegalArgumentException("watermarkScaleFactor must be in [1, 3000]");
    }
    if (watermarkBoostFactor < 0) {
      throw new IllegalArgumentException("watermarkBoostFactor must be >= 0");
    }
    if (percpuPagelistHighFraction != 0 && percpuPagelistHighFraction < 8) {
      // MIN_PERCPU_PAGELIST_HIGH_FRACTION
      throw new IllegalArgumentException("percpuPagelistHighFraction must be 0 or >= 8");
    }
  }

  /** One past the highest pfn of any zone. */
  public int endPfn() {
    return zones.get(zones.size() - 1).endPfn();
  }

  /** A builder with x86-64 defaults and no zones. */
  public static Builder builder() {
    return new Builder();
  }

  /** An x86-64 guest of {@code bytes} of RAM laid out as {@link Builder#memory} does. */
  public static MmConfig forMemory(long bytes) {
    return builder().memory(bytes).build();
  }

  /** Builder of {@link MmConfig}. */
  public static final class Builder {
    private Geometry geometry = Geometry.X86_64;
    private final List<ZoneSpec> zones = new ArrayList<>();
    private long memoryBytes = -1;
    private long movableBytes;
    private int nrCpus = 1;
    private long minFreeKbytes = -1;
    private boolean thp = true;
    private boolean pcp = true;
    private int watermarkScaleFactor = 10;
    private int watermarkBoostFactor = Zone.DEFAULT_WATERMARK_BOOST_FACTOR;
    private int percpuPagelistHighFraction;
    private boolean cma = true;

    private Builder() {}

    public Builder geometry(Geometry g) {
      this.geometry = g;
      return this;
    }

    /**
     * RAM of {@code bytes} from pfn 0, as QEMU gives an x86-64 guest without a PCI hole: pfn 0 is
     * a hole (the kernel never uses it), DMA below 16 MiB, DMA32 below 4 GiB, Normal above.
     * Replaces any zones added with {@link #zone}.
     */
    public Builder memory(long bytes) {
      this.memoryBytes = bytes;
      return this;
    }

    /** movablecore=: the last {@code bytes} of RAM form ZONE_MOVABLE. */
    public Builder movable(long bytes) {
      this.movableBytes = bytes;
      return this;
    }

    /** Adds an explicit zone (used by importers). */
    public Builder zone(ZoneSpec z) {
      zones.add(z);
      return this;
    }

    public Builder nrCpus(int n) {
      this.nrCpus = n;
      return this;
    }

    public Builder minFreeKbytes(long kb) {
      this.minFreeKbytes = kb;
      return this;
    }

    public Builder thp(boolean on) {
      this.thp = on;
      return this;
    }

    public Builder pcp(boolean on) {
      this.pcp = on;
      return this;
    }

    public Builder watermarkScaleFactor(int f) {
      this.watermarkScaleFactor = f;
      return this;
    }

    public Builder watermarkBoostFactor(int f) {
      this.watermarkBoostFactor = f;
      return this;
    }

    public Builder percpuPagelistHighFraction(int f) {
      this.percpuPagelistHighFraction = f;
      return this;
    }

    public Builder cma(boolean on) {
      this.cma = on;
      return this;
    }

    public MmConfig build() {
      List<ZoneSpec> layout = memoryBytes >= 0 ? layout() : zones;
      return new MmConfig(geometry, layout, nrCpus, minFreeKbytes, thp, pcp,
          watermarkScaleFactor, watermarkBoostFactor, percpuPagelistHighFraction, cma);
    }

    private List<ZoneSpec> layout() {
      long pageSize = geometry.pageSize();
      long pages = memoryBytes / pageSize;
      long minPages = 2L * geometry.maxOrderNrPages();
      if (pages < minPages) {
        throw new IllegalArgumentException(
            "memory must be at least " + (minPages * pageSize >> 20) + " MiB, got "
                + memoryBytes + " bytes");
      }
      if (pages > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(
            "memory must be below " + (Integer.MAX_VALUE * pageSize >> 30) + " GiB with "
                + pageSize + "-byte pages");
      }
      long movable = movableBytes / pageSize;
      if (movable < 0 || movable >= pages) {
        throw new IllegalArgumentException("movable must be in [0, memory), got " + movableBytes);
      }
      long movableStart = pages - movable;
      List<ZoneSpec> out = new ArrayList<>();
      long dmaEnd = Math.min(pages, DMA_LIMIT / pageSize);
      long dma32End = Math.min(pages, DMA32_LIMIT / pageSize);
      addClipped(out, ZoneType.DMA, 1, Math.min(dmaEnd, movableStart));
      addClipped(out, ZoneType.DMA32, dmaEnd, Math.min(dma32End, movableStart));
      addClipped(out, ZoneType.NORMAL, dma32End, movableStart);
      addClipped(out, ZoneType.MOVABLE, movableStart, pages);
      return out;
    }

    private static void addClipped(List<ZoneSpec> out, ZoneType t, long start, long end) {
      if (end > start) {
        out.add(new ZoneSpec(t, (int) start, (int) (end - start), 0));
      }
    }
  }
}
