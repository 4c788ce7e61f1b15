package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MemMap.K_ALLOC;
import static io.hintlab.guest.mm.MemMap.K_TAIL;

/**
 * Migration of one allocated movable block: the model's migrate_pages() for a single folio
 * (mm/migrate.c) with isolate_movable_ops_page()/isolate_lru_page(), the owner's migrate
 * callback, the contents copy and the owner update.
 *
 * <p>A block is movable if it was allocated MOVABLE (an LRU page) or belongs to a non-LRU movable
 * owner (a balloon page). Pages with owner 0 are moved without telling anyone; a concurrent free
 * of such a page by its user would race, so owner-less movable pages must only be migrated when
 * their user is quiescent (single-threaded simulations).
 */
public final class Migration {
  private Migration() {}

  /** Whether the block headed at pfn is an allocated movable block. */
  public static boolean isMovableBlock(MemMap mm, int pfn) {
    return mm.kind(pfn) == K_ALLOC && Zone.isMovableAllocation(mm.aux(pfn));
  }

  /**
   * Migrates the allocated block headed at src to a target from {@code target}: isolate it with
   * its owner, get a target, let the owner move its references, copy the contents, give the
   * target the source's owner and type, free the source. On failure the owner gets the block back
   * (putback) and the target is returned.
   *
   * @param a the allocator
   * @param cpu the cpu freeing the migrated-away source
   * @param src the head pfn of an allocated movable block
   * @param target where targets come from
   * @return 0 on success; -EAGAIN (owner refused isolation, or transient failure: retry),
   *     -ENOMEM (no target), -EBUSY (not a movable allocated block), or the owner's permanent
   *     error
   */
  public static int migrateBlock(PageAllocator a, int cpu, int src, MigrationTarget target) {
    a.checkCpuIndex(cpu);
    MemMap mm = a.mm;
    if (src < 0 || src >= mm.nrPages || !isMovableBlock(mm, src)) {
      return -Errno.EBUSY;
    }
    if (!isolate(a, src)) {
      return -Errno.EAGAIN;
    }
    int order = mm.order(src);
    int rc = migrateIsolated(a, cpu, src, target);
    if (rc != 0) {
      putback(a, src);
      a.countEvent(cpu, VmEvent.PGMIGRATE_FAIL, 1L << order);
    }
    return rc;
  }

  /**
   * isolate_movable_ops_page() / folio_isolate_lru(): ask the owner of the allocated movable block
   * at src to let it go for migration (owner-less blocks always can).
   *
   * @return whether the block is isolated now
   */
  static boolean isolate(PageAllocator a, int src) {
    int owner = a.mm.owner[src];
    MovableOps ops = a.owners.ops(owner);
    return ops == null || ops.isolatePage(src, a.mm.order(src), PageOwners.handleOf(owner));
  }

  /** putback_movable_pages() for one isolated block: the owner takes it back unchanged. */
  static void putback(PageAllocator a, int src) {
    int owner = a.mm.owner[src];
    MovableOps ops = a.owners.ops(owner);
    if (ops != null) {
      ops.putbackPage(src, a.mm.order(src), PageOwners.handleOf(owner));
    }
  }

  /**
   * The migration of one isolated block (migrate_folio_unmap() + migrate_folio_move()): get a
   * target, let the owner move its references, copy, give the target the source's owner and type,
   * free the source and count pgmigrate_success. On failure the block stays isolated (the caller
   * retries or puts it back), an unused target is returned, and nothing is counted.
   *
   * @return 0, -ENOMEM (no target), or the owner's error (-EAGAIN: transient)
   */
  static int migrateIsolated(PageAllocator a, int cpu, int src, MigrationTarget target) {
    MemMap mm = a.mm;
    int order = mm.order(src);
    int aux = mm.aux(src);
    int owner = mm.owner[src];
    MovableOps ops = a.owners.ops(owner);
    int dst = target.alloc(order, src);
    if (dst < 0) {
      return -Errno.ENOMEM;
    }
    int rc = ops == null
        ? MovableOps.MIGRATEPAGE_SUCCESS
        : ops.migratePage(dst, src, order, PageOwners.handleOf(owner));
    if (rc != MovableOps.MIGRATEPAGE_SUCCESS) {
      target.free(dst, order);
      return rc;
    }
    a.copier.copy(dst, src, order);
    // The target becomes the owner's block of the same kind; nobody else can see it yet.
    mm.setHead(dst, K_ALLOC, aux, order);
    mm.fillTails(dst, order, K_TAIL, aux);
    mm.owner[dst] = owner;
    a.freeOwnedBlock(cpu, src, order);
    a.countEvent(cpu, VmEvent.PGMIGRATE_SUCCESS, 1L << order);
    return 0;
  }
}
