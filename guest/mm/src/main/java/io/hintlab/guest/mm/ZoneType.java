package io.hintlab.guest.mm;

/**
 * Zone types of an x86-64 kernel ({@code enum zone_type}, include/linux/mmzone.h) with the names of
 * {@code zone_names[]} (mm/page_alloc.c). DEVICE is never populated in the model but is listed, as
 * the kernel lists it in /proc/zoneinfo and in the lowmem_reserve ("protection") tuples.
 */
public enum ZoneType {
  DMA("DMA", 256),
  DMA32("DMA32", 256),
  NORMAL("Normal", 32),
  MOVABLE("Movable", 0),
  DEVICE("Device", 0);

  /** MAX_NR_ZONES. */
  public static final int MAX_NR_ZONES = values().length;

  private final String kernelName;
  private final int defaultLowmemReserveRatio;

  ZoneType(String kernelName, int defaultLowmemReserveRatio) {
    this.kernelName = kernelName;
    this.defaultLowmemReserveRatio = defaultLowmemReserveRatio;
  }

  /** The name the kernel prints ("DMA", "DMA32", "Normal", "Movable", "Device"). */
  public String kernelName() {
    return kernelName;
  }

  /** sysctl_lowmem_reserve_ratio[] default for this zone (mm/page_alloc.c). */
  public int defaultLowmemReserveRatio() {
    return defaultLowmemReserveRatio;
  }

  /** The zone type whose kernel name is {@code name}, or null. */
  public static ZoneType byKernelName(String name) {
    for (ZoneType t : values()) {
      if (t.kernelName.equals(name)) {
        return t;
      }
    }
    return null;
  }
}
