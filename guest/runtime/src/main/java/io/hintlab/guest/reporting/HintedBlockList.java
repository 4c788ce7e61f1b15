package io.hintlab.guest.reporting;

import io.hintlab.guest.mm.MemMap;
import io.hintlab.guest.mm.MovableOps;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.PageOwners;
import java.util.Arrays;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The blocks free page hinting holds: {@code vb->free_page_list}, {@code num_free_page_blocks} and
 * {@code free_page_list_lock} of drivers/virtio/virtio_balloon.c. Blocks are allocated here, kept
 * on a primitive stack ({@code balloon_page_push()} / {@code balloon_page_pop()}: the block held
 * last is returned first) and freed here.
 *
 * <p>Every block the driver allocates carries the owner word of an owner class of its own in the
 * allocator's {@link PageOwners}, so a view or a test can tell the driver's blocks from other
 * allocations ({@link #isDriverBlock}). The blocks are UNMOVABLE allocations, which neither
 * compaction nor contiguous allocation tries to move; should anything ask, {@link #isolatePage}
 * refuses, as the kernel's hinted pages are not movable pages either.
 *
 * <p><b>Note:</b> thread-safe. Allocation and every free go through the lock, on the reporting
 * thread (alloc, hold, DONE), on an allocating thread in direct reclaim (the shrinker) and on the
 * thread that removes the device (release). Allocating with the hint flags never reclaims, so
 * holding the lock across {@code alloc_pages()} cannot re-enter the shrinker.
 */
final class HintedBlockList implements MovableOps {
  private final PageAllocator allocator;
  private final int order;
  private final int gfp;
  private final int owner;
  // free_page_list_lock
  private final ReentrantLock lock = new ReentrantLock();
  private int[] pfns = new int[64]; // guarded by lock
  private int size; // guarded by lock: num_free_page_blocks
  private boolean released; // guarded by lock: the device is gone, nothing is held any more

  /**
   * Creates an empty list and registers its owner class with the allocator.
   *
   * @param allocator the allocator the blocks come from
   * @param order the block order (VIRTIO_BALLOON_HINT_BLOCK_ORDER)
   * @param gfp the allocation flags (VIRTIO_BALLOON_FREE_PAGE_ALLOC_FLAG)
   */
  HintedBlockList(PageAllocator allocator, int order, int gfp) {
    this.allocator = allocator;
    this.order = order;
    this.gfp = gfp;
    this.owner = PageOwners.owner(allocator.owners().register(this, false), 0);
  }

  /**
   * alloc_pages() of one block for hinting.
   *
   * @param cpu the cpu allocating
   * @return the block's first pfn, or -1 if the allocation failed or the list was released
   */
  int alloc(int cpu) {
    // Locking: the reporting thread's cpu is used only under the lock, so a release on another
    // thread never uses its counters at the same time as an allocation.
    lock.lock();
    try {
      return released ? -1 : allocator.allocPages(cpu, order, gfp, owner);
    } finally {
      lock.unlock();
    }
  }

  /**
   * balloon_page_push() of blocks the device took; after a release they are freed instead.
   *
   * @param cpu the cpu freeing, if the list was released
   * @param blocks first pfns in entries {@code [0, n)}
   * @param n the number of blocks
   * @return how many blocks are now held (n, or 0 after a release)
   */
  int hold(int cpu, long[] blocks, int n) {
    lock.lock();
    try {
      if (released) {
        freeLocked(cpu, blocks, n);
        return 0;
      }
      if (size + n > pfns.length) {
        pfns = Arrays.copyOf(pfns, Math.max(pfns.length * 2, size + n));
      }
      for (int i = 0; i < n; i++) {
        pfns[size++] = (int) blocks[i];
      }
      return n;
    } finally {
      lock.unlock();
    }
  }

  /**
   * free_pages() of blocks that were allocated but never held (the device did not take them).
   *
   * @param cpu the cpu freeing
   * @param blocks first pfns in entries {@code [0, n)}
   * @param n the number of blocks
   */
  void free(int cpu, long[] blocks, int n) {
    lock.lock();
    try {
      freeLocked(cpu, blocks, n);
    } finally {
      lock.unlock();
    }
  }

  private void freeLocked(int cpu, long[] blocks, int n) {
    for (int i = 0; i < n; i++) {
      allocator.freePages(cpu, (int) blocks[i], order);
    }
  }

  /**
   * return_free_pages_to_mm(): pop and free up to {@code max} held blocks.
   *
   * @param cpu the cpu freeing
   * @param max the most blocks to return ({@link Long#MAX_VALUE}: all)
   * @return the blocks returned
   */
  long returnFreePagesToMm(int cpu, long max) {
    lock.lock();
    try {
      long returned = 0;
      while (returned < max && size > 0) {
        allocator.freePages(cpu, pfns[--size], order);
        returned++;
      }
      return returned;
    } finally {
      lock.unlock();
    }
  }

  /**
   * remove_common(): returns every held block; from now on nothing is allocated or held.
   *
   * @param cpu the cpu freeing
   * @return the blocks returned
   */
  long release(int cpu) {
    lock.lock();
    try {
      released = true;
      return returnFreePagesToMm(cpu, Long.MAX_VALUE);
    } finally {
      lock.unlock();
    }
  }

  /** Whether {@link #release} ran. */
  boolean released() {
    lock.lock();
    try {
      return released;
    } finally {
      lock.unlock();
    }
  }

  /** num_free_page_blocks: blocks held now. */
  int size() {
    lock.lock();
    try {
      return size;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Whether pfn heads a block the driver allocated for hinting and has not freed: held, or in a
   * hint call.
   */
  boolean isDriverBlock(int pfn) {
    MemMap mm = allocator.memMap();
    return pfn >= 0
        && pfn < mm.nrPages()
        && mm.kind(pfn) == MemMap.K_ALLOC
        && mm.owner(pfn) == owner
        && mm.order(pfn) == order;
  }

  /** Hinted blocks are not movable pages: never isolated for migration. */
  @Override
  public boolean isolatePage(int pfn, int blockOrder, int handle) {
    return false;
  }

  @Override
  public int migratePage(int dst, int src, int blockOrder, int handle) {
    throw new IllegalStateException("hinted block " + src + " was never isolated for migration");
  }

  @Override
  public void putbackPage(int pfn, int blockOrder, int handle) {
    throw new IllegalStateException("hinted block " + pfn + " was never isolated for migration");
  }
}
