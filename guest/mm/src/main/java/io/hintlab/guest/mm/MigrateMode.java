package io.hintlab.guest.mm;

/**
 * enum migrate_mode (include/linux/migrate_mode.h). The model has no page locks, writeback or
 * dirty pages to wait for, so the modes differ only where compaction's scanners look at them
 * (source block types, strides, cached positions, the rescan of a partly failed pageblock).
 */
public enum MigrateMode {
  /** MIGRATE_ASYNC: never block. */
  ASYNC,
  /** MIGRATE_SYNC_LIGHT: block on most things but not writeback. */
  SYNC_LIGHT,
  /** MIGRATE_SYNC: block as needed. */
  SYNC
}
