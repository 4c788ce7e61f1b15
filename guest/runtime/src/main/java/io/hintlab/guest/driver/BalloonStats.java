package io.hintlab.guest.driver;

import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.Zone;
import io.hintlab.guest.mm.ZoneType;

/**
 * The stats buffer of the Linux driver ({@code update_balloon_stats()} with {@code
 * update_balloon_vm_stats()}), filled from the allocator model. Tags are the virtio spec's
 * (include/uapi/linux/virtio_balloon.h); values in bytes for the memory tags, counts for the
 * event tags.
 *
 * <p>The model has no swap, no page faults, no page cache, no LRU reclaim and no OOM killer, so
 * the tags for those are sent as the 0 such a kernel really has: SWAP_IN, SWAP_OUT, MAJFLT,
 * MINFLT, OOM_KILL (an allocation fails instead of killing), ASYNC_SCAN, DIRECT_SCAN,
 * ASYNC_RECLAIM, DIRECT_RECLAIM (pgscan/pgsteal count LRU pages; shrinker frees do not count
 * there) and CACHES. The kernel modelled has no CONFIG_HUGETLB_PAGE, so HTLB_PGALLOC and
 * HTLB_PGFAIL are not sent, as Linux leaves them out then.
 *
 * <p>MEMTOT is {@code totalram_pages()}: the zones' managed pages. Without DEFLATE_ON_OOM Linux
 * lowers the managed pages by each inflated page ({@code adjust_managed_page_count(page, -1)});
 * the model has no such adjustment, so MEMTOT does not shrink as the balloon grows.
 */
public final class BalloonStats {
  /** Amount of memory swapped in (bytes). */
  public static final int VIRTIO_BALLOON_S_SWAP_IN = 0;
  /** Amount of memory swapped out (bytes). */
  public static final int VIRTIO_BALLOON_S_SWAP_OUT = 1;
  /** Number of major faults. */
  public static final int VIRTIO_BALLOON_S_MAJFLT = 2;
  /** Number of minor faults. */
  public static final int VIRTIO_BALLOON_S_MINFLT = 3;
  /** Total amount of free memory (bytes). */
  public static final int VIRTIO_BALLOON_S_MEMFREE = 4;
  /** Total amount of memory (bytes). */
  public static final int VIRTIO_BALLOON_S_MEMTOT = 5;
  /** Available memory as in /proc (bytes). */
  public static final int VIRTIO_BALLOON_S_AVAIL = 6;
  /** Disk caches (bytes). */
  public static final int VIRTIO_BALLOON_S_CACHES = 7;
  /** Hugetlb page allocations. */
  public static final int VIRTIO_BALLOON_S_HTLB_PGALLOC = 8;
  /** Hugetlb page allocation failures. */
  public static final int VIRTIO_BALLOON_S_HTLB_PGFAIL = 9;
  /** OOM killer invocations. */
  public static final int VIRTIO_BALLOON_S_OOM_KILL = 10;
  /** Stall count of memory allocation. */
  public static final int VIRTIO_BALLOON_S_ALLOC_STALL = 11;
  /** Amount of memory scanned asynchronously (bytes). */
  public static final int VIRTIO_BALLOON_S_ASYNC_SCAN = 12;
  /** Amount of memory scanned directly (bytes). */
  public static final int VIRTIO_BALLOON_S_DIRECT_SCAN = 13;
  /** Amount of memory reclaimed asynchronously (bytes). */
  public static final int VIRTIO_BALLOON_S_ASYNC_RECLAIM = 14;
  /** Amount of memory reclaimed directly (bytes). */
  public static final int VIRTIO_BALLOON_S_DIRECT_RECLAIM = 15;
  /** VIRTIO_BALLOON_S_NR. */
  public static final int VIRTIO_BALLOON_S_NR = 16;

  /** Entries {@link #update} fills: the event tags, then the memory tags. */
  public static final int ENTRIES = 14;

  private BalloonStats() {}

  /**
   * {@code update_balloon_stats()}: fills the buffer in the driver's order (the vm events of
   * {@code update_balloon_vm_stats()}, then MEMFREE, MEMTOT, AVAIL, CACHES).
   *
   * @param pa the allocator
   * @param tags at least {@link #ENTRIES} entries
   * @param values at least {@link #ENTRIES} entries
   * @return the entries filled, {@link #ENTRIES}
   */
  public static int update(PageAllocator pa, int[] tags, long[] values) {
    if (tags.length < ENTRIES || values.length < ENTRIES) {
      throw new IllegalArgumentException("the stats buffer needs " + ENTRIES + " entries");
    }
    long pageSize = pa.geometry().pageSize();
    int i = 0;
    i = put(tags, values, i, VIRTIO_BALLOON_S_SWAP_IN, 0);
    i = put(tags, values, i, VIRTIO_BALLOON_S_SWAP_OUT, 0);
    i = put(tags, values, i, VIRTIO_BALLOON_S_MAJFLT, 0);
    i = put(tags, values, i, VIRTIO_BALLOON_S_MINFLT, 0);
    i = put(tags, values, i, VIRTIO_BALLOON_S_OOM_KILL, 0);
    i = put(tags, values, i, VIRTIO_BALLOON_S_ALLOC_STALL, pa.allocStalls());
    i = put(tags, values, i, VIRTIO_BALLOON_S_ASYNC_SCAN, 0);
    i = put(tags, values, i, VIRTIO_BALLOON_S_DIRECT_SCAN, 0);
    i = put(tags, values, i, VIRTIO_BALLOON_S_ASYNC_RECLAIM, 0);
    i = put(tags, values, i, VIRTIO_BALLOON_S_DIRECT_RECLAIM, 0);
    i = put(tags, values, i, VIRTIO_BALLOON_S_MEMFREE, pa.freePages() * pageSize);
    i = put(tags, values, i, VIRTIO_BALLOON_S_MEMTOT, totalramPages(pa) * pageSize);
    i = put(tags, values, i, VIRTIO_BALLOON_S_AVAIL, siMemAvailable(pa) * pageSize);
    return put(tags, values, i, VIRTIO_BALLOON_S_CACHES, 0);
  }

  private static int put(int[] tags, long[] values, int i, int tag, long value) {
    tags[i] = tag;
    values[i] = value;
    return i + 1;
  }

  /**
   * {@code totalram_pages()}: the managed pages of every zone.
   *
   * @param pa the allocator
   * @return pages
   */
  public static long totalramPages(PageAllocator pa) {
    long sum = 0;
    for (Zone z : pa.zones()) {
      sum += z.managedPages();
    }
    return sum;
  }

  /**
   * {@code si_mem_available()}: free pages minus {@code totalreserve_pages}, plus the page cache
   * and reclaimable slab the kernel could free; the model has neither, so only the first part is
   * left. Never negative.
   *
   * @param pa the allocator
   * @return pages
   */
  public static long siMemAvailable(PageAllocator pa) {
    return Math.max(0, pa.freePages() - totalreservePages(pa));
  }

  /**
   * {@code calculate_totalreserve_pages()}: for each zone, its largest lowmem_reserve toward the
   * zones above it plus its high watermark ("we treat the high watermark as reserved pages"), at
   * most its managed pages.
   *
   * @param pa the allocator
   * @return pages
   */
  public static long totalreservePages(PageAllocator pa) {
    long sum = 0;
    for (Zone z : pa.zones()) {
      long max = 0;
      for (int j = z.type().ordinal(); j < ZoneType.MAX_NR_ZONES; j++) {
        max = Math.max(max, z.lowmemReserve(j));
      }
      max += z.watermark(Zone.WMARK_HIGH);
      sum += Math.min(max, z.managedPages());
    }
    return sum;
  }
}
