package io.hintlab.guest.mm;

/**
 * enum compact_priority (include/linux/compaction.h): how hard direct compaction tries. Lower is
 * harder, as in the kernel: SYNC_FULL is MIN_COMPACT_PRIORITY, SYNC_LIGHT is DEF_COMPACT_PRIORITY
 * (and MIN_COMPACT_COSTLY_PRIORITY), ASYNC is INIT_COMPACT_PRIORITY.
 */
public enum CompactPriority {
  /** Whole zone, skip hints ignored, any pageblock a target; synchronous migration. */
  SYNC_FULL,
  /** Cached scanner positions and skip hints; MIGRATE_SYNC_LIGHT. */
  SYNC_LIGHT,
  /** Cached positions, skip hints, same-type source blocks only; MIGRATE_ASYNC. */
  ASYNC;

  /** MIN_COMPACT_PRIORITY. */
  public static final CompactPriority MIN = SYNC_FULL;
  /** DEF_COMPACT_PRIORITY. */
  public static final CompactPriority DEF = SYNC_LIGHT;
  /** INIT_COMPACT_PRIORITY. */
  public static final CompactPriority INIT = ASYNC;
}
