package io.hintlab.guest.mm;

/**
 * The two direct compaction steps of __alloc_pages_slowpath() (mm/page_alloc.c) for one
 * allocation, in a model without reclaim: before "direct reclaim", an async attempt for costly
 * orders and for non-movable high orders; after it, one more attempt at DEF_COMPACT_PRIORITY
 * (SYNC_LIGHT), or again async for a costly __GFP_NORETRY request. A costly __GFP_NORETRY request
 * whose first attempt was skipped or deferred gives up at once. Without reclaim progress the
 * kernel neither retries nor escalates the priority further (should_compact_retry() needs
 * did_some_progress), so neither does the model.
 */
final class SlowpathCompaction {
  private final Compaction c;
  private final int cpu;
  private final int order;
  private final int gfp;
  private final int allocFlags;
  private final Zone[] zl;
  private final int idx;
  private final int mt;
  private final boolean canDirectReclaim;
  private CompactPriority prio = CompactPriority.DEF;
  private boolean noPage;

  SlowpathCompaction(Compaction c, int cpu, int order, int gfp, int allocFlags, Zone[] zl,
      int idx, int mt) {
    this.c = c;
    this.cpu = cpu;
    this.order = order;
    this.gfp = gfp;
    this.allocFlags = allocFlags;
    this.zl = zl;
    this.idx = idx;
    this.mt = mt;
    this.canDirectReclaim = (gfp & Gfp.__GFP_DIRECT_RECLAIM) != 0;
  }

  /**
   * The first attempt ("for costly allocations, try direct compaction first"), at
   * INIT_COMPACT_PRIORITY.
   *
   * @return the pfn, or -1
   */
  int first() {
    boolean costly = order > Geometry.PAGE_ALLOC_COSTLY_ORDER;
    if (!canDirectReclaim || !Compaction.gfpCompactionAllowed(gfp)
        || !(costly || (order > 0 && mt != MigrateType.MOVABLE))) {
      return -1;
    }
    CompactResult[] result = new CompactResult[1];
    int pfn = c.directCompact(cpu, order, gfp, allocFlags, zl, idx, mt, CompactPriority.INIT,
        result);
    if (pfn < 0 && costly && (gfp & Gfp.__GFP_NORETRY) != 0) {
      noPage = result[0] == CompactResult.SKIPPED || result[0] == CompactResult.DEFERRED;
      prio = CompactPriority.INIT; // keep using async compaction
    }
    return pfn;
  }

  /** Whether the slow path should fail now (costly __GFP_NORETRY, compaction skipped/deferred). */
  boolean noPage() {
    return noPage;
  }

  /**
   * The attempt after direct reclaim in the retry loop, at the current compact priority.
   *
   * @return the pfn, or -1
   */
  int retry() {
    if (!canDirectReclaim || noPage) {
      return -1;
    }
    return c.directCompact(cpu, order, gfp, allocFlags, zl, idx, mt, prio,
        new CompactResult[1]);
  }
}
