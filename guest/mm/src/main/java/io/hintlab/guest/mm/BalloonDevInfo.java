package io.hintlab.guest.mm;

import java.util.Arrays;

/**
 * The balloon's page list ({@code struct balloon_dev_info}, mm/balloon_compaction.c): pages the
 * balloon driver took from the guest. They stay movable (non-LRU movable pages with
 * {@code balloon_mops}), so compaction and contiguous allocation can move them; moving one asks
 * the driver ({@link MigratePage}) to inflate the new page and deflate the old one at the host.
 *
 * <p>Each balloon page has a slot; the slot is the page's owner handle, so a migration finds it in
 * O(1). Balloon pages are allocated as {@code balloon_page_alloc()} does: movable, no reclaim,
 * no emergency reserves.
 *
 * <p><b>Note:</b> thread-safe; the monitor plays {@code b_dev_info->pages_lock}. The migrate
 * callback runs outside it.
 */
public final class BalloonDevInfo implements MovableOps {
  /** balloon_mapping_gfp_mask() | __GFP_NOMEMALLOC | __GFP_NORETRY | __GFP_NOWARN. */
  public static final int BALLOON_GFP =
      Gfp.GFP_HIGHUSER_MOVABLE | Gfp.__GFP_NOMEMALLOC | Gfp.__GFP_NORETRY | Gfp.__GFP_NOWARN;

  /** The driver's {@code b_dev_info->migratepage} (virtballoon_migratepage()). */
  @FunctionalInterface
  public interface MigratePage {
    /**
     * Tell the host that newPfn is now in the balloon and oldPfn is not.
     *
     * @return {@link MovableOps#MIGRATEPAGE_SUCCESS}, or -EAGAIN when the device is not there
     */
    int migratepage(int newPfn, int oldPfn);
  }

  private static final int NONE = -1;

  private final PageAllocator a;
  private final int ownerClass;
  private volatile MigratePage migratepage;
  private int[] pfnBySlot = new int[64];
  private boolean[] isolated = new boolean[64];
  private int[] freeSlots = new int[64];
  private int nrFreeSlots;
  private int usedSlots;
  private int nrPages;
  private int isolatedPages;

  /**
   * balloon_devinfo_init(): a balloon over allocator a with the driver's migrate callback.
   *
   * @param migratepage the driver callback (may be replaced later with {@link #setMigratePage})
   */
  public BalloonDevInfo(PageAllocator a, MigratePage migratepage) {
    this.a = a;
    this.migratepage = migratepage;
    this.ownerClass = a.owners().register(this, true);
    Arrays.fill(pfnBySlot, NONE);
  }

  /** Replaces the driver callback (null: the device is gone and migrations fail with -EAGAIN). */
  public void setMigratePage(MigratePage m) {
    this.migratepage = m;
  }

  /** Pages in the balloon (on its list or isolated for migration). */
  public synchronized int size() {
    return nrPages;
  }

  /** b_dev_info->isolated_pages. */
  public synchronized int isolatedPages() {
    return isolatedPages;
  }

  /** Whether pfn is a page of this balloon. */
  public synchronized boolean contains(int pfn) {
    int owner = a.mm.owner(pfn);
    return a.mm.kind(pfn) == MemMap.K_ALLOC && PageOwners.classOf(owner) == ownerClass
        && pfnBySlot[PageOwners.handleOf(owner)] == pfn;
  }

  /** The pfns in the balloon, in slot order. */
  public synchronized int[] pfns() {
    int[] out = new int[nrPages];
    int n = 0;
    for (int s = 0; s < usedSlots; s++) {
      if (pfnBySlot[s] != NONE) {
        out[n++] = pfnBySlot[s];
      }
    }
    return out;
  }

  /**
   * balloon_page_alloc() + balloon_page_enqueue(): take one page from the guest into the balloon.
   * The driver then tells the host (inflate queue).
   *
   * @return the pfn, or -1 if no page could be had without reclaim
   */
  public int inflateOne(int cpu) {
    int slot;
    synchronized (this) {
      slot = takeSlot();
    }
    int pfn = a.allocPages(cpu, 0, BALLOON_GFP, PageOwners.owner(ownerClass, slot));
    synchronized (this) {
      if (pfn < 0) {
        freeSlots[nrFreeSlots++] = slot;
        return -1;
      }
      pfnBySlot[slot] = pfn;
      nrPages++;
    }
    a.countEvent(cpu, VmEvent.BALLOON_INFLATE, 1);
    return pfn;
  }

  /**
   * balloon_page_dequeue(): take one page off the balloon list (isolated pages are skipped). The
   * driver tells the host (deflate queue) and then gives it back with {@link #release}.
   *
   * @return the pfn, or -1 if the list holds no page that is not isolated
   */
  public int dequeueOne(int cpu) {
    int pfn = NONE;
    synchronized (this) {
      for (int s = usedSlots - 1; s >= 0; s--) {
        if (pfnBySlot[s] != NONE && !isolated[s]) {
          pfn = pfnBySlot[s];
          pfnBySlot[s] = NONE;
          freeSlots[nrFreeSlots++] = s;
          nrPages--;
          break;
        }
      }
    }
    if (pfn != NONE) {
      a.countEvent(cpu, VmEvent.BALLOON_DEFLATE, 1);
    }
    return pfn;
  }

  /** Frees a dequeued page back to the guest (release_pages_balloon() / put_page()). */
  public void release(int cpu, int pfn) {
    a.freeOwnedBlock(cpu, pfn, 0);
  }

  private int takeSlot() {
    if (nrFreeSlots > 0) {
      return freeSlots[--nrFreeSlots];
    }
    if (usedSlots == pfnBySlot.length) {
      int n = usedSlots * 2;
      pfnBySlot = Arrays.copyOf(pfnBySlot, n);
      Arrays.fill(pfnBySlot, usedSlots, n, NONE);
      isolated = Arrays.copyOf(isolated, n);
      freeSlots = Arrays.copyOf(freeSlots, n);
    }
    return usedSlots++;
  }

  // ---------------------------------------------------------------- balloon_mops

  /** balloon_page_isolate(): off the list, isolated_pages++. */
  @Override
  public synchronized boolean isolatePage(int pfn, int order, int handle) {
    if (handle >= usedSlots || pfnBySlot[handle] != pfn || isolated[handle]) {
      return false;
    }
    isolated[handle] = true;
    isolatedPages++;
    return true;
  }

  /**
   * balloon_page_migrate(): the driver tells the host; on success the new page takes the old
   * one's place in the list (virtballoon_migratepage() inserts it and drops isolated_pages).
   */
  @Override
  public int migratePage(int dst, int src, int order, int handle) {
    MigratePage m = migratepage;
    int rc = m == null ? -Errno.EAGAIN : m.migratepage(dst, src);
    if (rc != MIGRATEPAGE_SUCCESS) {
      return rc;
    }
    synchronized (this) {
      pfnBySlot[handle] = dst;
      isolated[handle] = false;
      isolatedPages--;
    }
    a.countEventShared(VmEvent.BALLOON_MIGRATE, 1);
    return MIGRATEPAGE_SUCCESS;
  }

  /** balloon_page_putback(): back on the list, isolated_pages--. */
  @Override
  public synchronized void putbackPage(int pfn, int order, int handle) {
    if (handle < usedSlots && isolated[handle]) {
      isolated[handle] = false;
      isolatedPages--;
    }
  }
}
