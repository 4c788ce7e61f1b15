package io.hintlab.guest.mm;

/**
 * The /proc/vmstat event counters the model keeps (enum vm_event_item, include/linux/vm_event_item.h),
 * in the order mm/vmstat.c prints them. Per-zone pgalloc counters come first as in the kernel.
 */
public enum VmEvent {
  PGALLOC_DMA("pgalloc_dma"),
  PGALLOC_DMA32("pgalloc_dma32"),
  PGALLOC_NORMAL("pgalloc_normal"),
  PGALLOC_MOVABLE("pgalloc_movable"),
  PGALLOC_DEVICE("pgalloc_device"),
  PGFREE("pgfree"),
  PGMIGRATE_SUCCESS("pgmigrate_success"),
  PGMIGRATE_FAIL("pgmigrate_fail"),
  COMPACT_MIGRATE_SCANNED("compact_migrate_scanned"),
  COMPACT_FREE_SCANNED("compact_free_scanned"),
  COMPACT_ISOLATED("compact_isolated"),
  COMPACT_STALL("compact_stall"),
  COMPACT_FAIL("compact_fail"),
  COMPACT_SUCCESS("compact_success"),
  COMPACT_DAEMON_WAKE("compact_daemon_wake"),
  COMPACT_DAEMON_MIGRATE_SCANNED("compact_daemon_migrate_scanned"),
  COMPACT_DAEMON_FREE_SCANNED("compact_daemon_free_scanned"),
  CMA_ALLOC_SUCCESS("cma_alloc_success"),
  CMA_ALLOC_FAIL("cma_alloc_fail"),
  BALLOON_INFLATE("balloon_inflate"),
  BALLOON_DEFLATE("balloon_deflate"),
  BALLOON_MIGRATE("balloon_migrate");

  private final String procName;

  VmEvent(String procName) {
    this.procName = procName;
  }

  /** The name /proc/vmstat prints. */
  public String procName() {
    return procName;
  }

  /** PGALLOC_&lt;zone&gt; for a zone type. */
  static VmEvent pgalloc(ZoneType t) {
    return VALUES[PGALLOC_DMA.ordinal() + t.ordinal()];
  }

  /** values() copies its array on every call; the allocation path needs it once. */
  private static final VmEvent[] VALUES = values();
}
