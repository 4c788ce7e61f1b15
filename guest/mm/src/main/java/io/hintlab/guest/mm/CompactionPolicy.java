package io.hintlab.guest.mm;

import java.util.Locale;

/**
 * Which compaction the model runs, and its sysctls: a small policy installed with {@link
 * Compaction#install}. The kernel always has direct compaction and kcompactd; the lab switches
 * them apart to compare them.
 *
 * @param direct direct compaction in the allocation slow path (__alloc_pages_direct_compact())
 * @param coalesce with direct: the slow path runs the 2005 coalescing defragmenter ({@link
 *     Coalescer}) instead of compaction, so that the two can be compared
 * @param kcompactdWakeups kcompactd woken by kswapd for the order of a failed allocation
 *     (wakeup_kcompactd() from kswapd_try_to_sleep(); kcompactd_do_work())
 * @param proactive kcompactd's proactive compaction driven by the fragmentation score
 * @param proactiveness vm.compaction_proactiveness, 0..100 (default 20)
 * @param extfragThreshold vm.extfrag_threshold, 0..1000 (default 500)
 */
public record CompactionPolicy(boolean direct, boolean coalesce, boolean kcompactdWakeups,
    boolean proactive, int proactiveness, int extfragThreshold) {

  /** sysctl_compaction_proactiveness default. */
  public static final int DEFAULT_PROACTIVENESS = 20;
  /** sysctl_extfrag_threshold default. */
  public static final int DEFAULT_EXTFRAG_THRESHOLD = 500;

  /** No compaction at all (the allocator's behaviour without a policy). */
  public static final CompactionPolicy OFF = new CompactionPolicy(false, false, false, false,
      DEFAULT_PROACTIVENESS, DEFAULT_EXTFRAG_THRESHOLD);
  /** Direct compaction only. */
  public static final CompactionPolicy DIRECT = new CompactionPolicy(true, false, false, false,
      DEFAULT_PROACTIVENESS, DEFAULT_EXTFRAG_THRESHOLD);
  /** kcompactd's proactive compaction only. */
  public static final CompactionPolicy PROACTIVE = new CompactionPolicy(false, false, false, true,
      DEFAULT_PROACTIVENESS, DEFAULT_EXTFRAG_THRESHOLD);
  /** Everything a v6.16 kernel does: direct, kcompactd wakeups and proactive. */
  public static final CompactionPolicy KERNEL = new CompactionPolicy(true, false, true, true,
      DEFAULT_PROACTIVENESS, DEFAULT_EXTFRAG_THRESHOLD);

  /** The coalescing defragmenter in the slow path instead of direct compaction. */
  public static final CompactionPolicy COALESCE = new CompactionPolicy(true, true, false, false,
      DEFAULT_PROACTIVENESS, DEFAULT_EXTFRAG_THRESHOLD);

  /** Validates the sysctl ranges (proc_dointvec_minmax bounds). */
  public CompactionPolicy {
    if (coalesce && !direct) {
      throw new IllegalArgumentException("coalesce replaces direct compaction: set direct too");
    }
    if (proactiveness < 0 || proactiveness > 100) {
      throw new IllegalArgumentException("proactiveness must be in [0, 100], got " + proactiveness);
    }
    if (extfragThreshold < 0 || extfragThreshold > 1000) {
      throw new IllegalArgumentException(
          "extfragThreshold must be in [0, 1000], got " + extfragThreshold);
    }
  }

  /** The names {@link #byName} accepts. */
  public static final String NAMES = "off, direct, proactive, kernel, coalesce";

  /**
   * The policy named off, direct, proactive, kernel or coalesce (any case).
   *
   * @throws IllegalArgumentException for another name, listing the valid ones
   */
  public static CompactionPolicy byName(String name) {
    return switch (name == null ? "" : name.strip().toLowerCase(Locale.ROOT)) {
      case "off" -> OFF;
      case "direct" -> DIRECT;
      case "proactive" -> PROACTIVE;
      case "kernel" -> KERNEL;
      case "coalesce" -> COALESCE;
      default -> throw new IllegalArgumentException(
          "unknown compaction policy '" + name + "': expected one of " + NAMES);
    };
  }

  /** Whether anything runs at all. */
  public boolean enabled() {
    return direct || kcompactdWakeups || proactive;
  }
}
