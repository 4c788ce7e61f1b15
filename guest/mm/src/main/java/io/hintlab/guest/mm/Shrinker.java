package io.hintlab.guest.mm;

/**
 * {@code struct shrinker} (include/linux/shrinker.h): a cache that direct reclaim may shrink.
 * {@link PageAllocator} calls registered shrinkers from the slow path's reclaim step
 * ({@code shrink_slab()} under {@code try_to_free_pages()}), on the allocating thread, with no
 * zone or pcp lock held; a shrinker frees pages through the allocator's free path.
 *
 * <p>The virtio-balloon driver registers one for the blocks it holds for free page hinting
 * ({@code virtio_balloon_shrinker_count/scan}), so memory pressure takes them back before DONE.
 */
public interface Shrinker {
  /** scan_objects()'s "no progress possible now" answer. */
  long SHRINK_STOP = -1;

  /**
   * count_objects(): how many objects (for the balloon: pages) could be freed now.
   *
   * @return a count, 0 when there is nothing to shrink
   */
  long countObjects();

  /**
   * scan_objects(): free up to about {@code nrToScan} objects.
   *
   * @param cpu the cpu of the allocating thread (frees go through its pcp lists)
   * @param nrToScan how many to scan, at least 1
   * @return objects freed, or {@link #SHRINK_STOP}
   */
  long scanObjects(int cpu, long nrToScan);
}
