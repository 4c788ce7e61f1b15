package io.hintlab.guest.mm;

/**
 * How the owner of movable pages lets the allocator move them: the model's {@code struct
 * movable_operations} (include/linux/migrate.h). LRU pages of a workload and balloon pages
 * (mm/balloon_compaction.c) both implement it.
 *
 * <p>Assumptions and guarantees:
 *
 * <ul>
 *   <li>After {@link #isolatePage} returns true the owner does not free the block until {@link
 *       #migratePage} succeeded (then the block is the allocator's to free) or {@link #putbackPage}
 *       was called.
 *   <li>{@link #migratePage} updates every reference the owner holds from src to dst and returns
 *       {@link #MIGRATEPAGE_SUCCESS}, {@link Errno#EAGAIN} negated for a transient failure (the
 *       caller may retry), or another negative errno for a permanent one.
 *   <li>Callbacks run on the migrating thread without any allocator lock held, so they may take
 *       their own locks.
 * </ul>
 */
public interface MovableOps {
  /** MIGRATEPAGE_SUCCESS. */
  int MIGRATEPAGE_SUCCESS = 0;

  /**
   * isolate_page(): take the block off the owner's own lists for migration.
   *
   * @return whether the block can be migrated now
   */
  boolean isolatePage(int pfn, int order, int handle);

  /**
   * migrate_page(): the contents are about to move from src to dst; update the owner's references.
   *
   * @return {@link #MIGRATEPAGE_SUCCESS} or a negative errno
   */
  int migratePage(int dst, int src, int order, int handle);

  /** putback_page(): migration failed; the owner takes the block back unchanged. */
  void putbackPage(int pfn, int order, int handle);
}
