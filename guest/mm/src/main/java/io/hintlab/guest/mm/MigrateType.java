package io.hintlab.guest.mm;

/**
 * Migratetypes as ints, in the order of {@code enum migratetype} (include/linux/mmzone.h,
 * v6.16+ with CONFIG_CMA and CONFIG_MEMORY_ISOLATION), the names of {@code migratetype_names[]}
 * (mm/page_alloc.c) and the fallback table {@code fallbacks[]}.
 *
 * <p>Ints rather than an enum because they index free-list arrays on the hot path.
 */
public final class MigrateType {
  public static final int UNMOVABLE = 0;
  public static final int MOVABLE = 1;
  public static final int RECLAIMABLE = 2;
  /** MIGRATE_PCPTYPES: the number of types that have per-cpu lists. */
  public static final int PCPTYPES = 3;

  public static final int HIGHATOMIC = PCPTYPES;
  public static final int CMA = 4;
  public static final int ISOLATE = 5;
  /** MIGRATE_TYPES. */
  public static final int TYPES = 6;

  private static final String[] NAMES = {
    "Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate"
  };

  // fallbacks[MIGRATE_PCPTYPES][MIGRATE_PCPTYPES - 1] (mm/page_alloc.c): the order in which
  // find_suitable_fallback() tries other types' free lists.
  private static final int[][] FALLBACKS = {
    {RECLAIMABLE, MOVABLE}, // UNMOVABLE
    {RECLAIMABLE, UNMOVABLE}, // MOVABLE
    {UNMOVABLE, MOVABLE}, // RECLAIMABLE
  };

  private MigrateType() {}

  /** The name /proc/pagetypeinfo prints (migratetype_names[]). */
  public static String name(int mt) {
    return NAMES[mt];
  }

  /** The migratetype whose name is {@code name}, case-insensitive, or -1. */
  public static int byName(String name) {
    for (int i = 0; i < TYPES; i++) {
      if (NAMES[i].equalsIgnoreCase(name)) {
        return i;
      }
    }
    return -1;
  }

  /** The i-th fallback of a pcp type (i in [0, PCPTYPES-1)). */
  static int fallback(int mt, int i) {
    return FALLBACKS[mt][i];
  }

  /** migratetype_is_mergeable(): only UNMOVABLE, MOVABLE and RECLAIMABLE blocks merge freely. */
  public static boolean isMergeable(int mt) {
    return mt < PCPTYPES;
  }

  /** is_migrate_movable(): MOVABLE or CMA. */
  public static boolean isMovable(int mt) {
    return mt == MOVABLE || mt == CMA;
  }
}
