package io.hintlab.guest.sim;

import io.hintlab.guest.mm.MovableOps;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.PageOwners;
import io.hintlab.guest.workload.LiveBlocks;
import java.util.Arrays;

/**
 * The THPs the simulation holds: order-9 blocks owned in the allocator's reverse map (so
 * contiguous allocation may migrate them; compaction leaves pageblock-sized pages alone), each
 * freed when its lifetime is over.
 */
final class ThpHolder implements MovableOps {
  private final PageAllocator pa;
  private final int ownerClass;
  private final LiveBlocks live = new LiveBlocks(64);
  /** Expiry step of each block, by handle. */
  private long[] expiry = new long[64];
  private boolean[] isolated = new boolean[64];

  ThpHolder(PageAllocator pa) {
    this.pa = pa;
    this.ownerClass = pa.owners().register(this, false);
  }

  /** Tries one allocation; a success is held until step {@code expiresAt}. */
  boolean tryAlloc(int cpu, int order, int gfp, long expiresAt) {
    int h = live.reserveHandle();
    int pfn = pa.allocPages(cpu, order, gfp, PageOwners.owner(ownerClass, h));
    if (pfn < 0) {
      live.releaseHandle(h);
      return false;
    }
    if (h >= expiry.length) {
      expiry = Arrays.copyOf(expiry, h * 2);
      isolated = Arrays.copyOf(isolated, h * 2);
    }
    expiry[h] = expiresAt;
    isolated[h] = false;
    live.add(pfn, order, h);
    return true;
  }

  /** Frees the blocks whose lifetime ended at or before step now. */
  void expire(int cpu, long now) {
    for (int i = live.size() - 1; i >= 0; i--) {
      if (expiry[live.handle(i)] <= now) {
        pa.freePages(cpu, live.pfn(i), live.order(i));
        live.removeAt(i);
      }
    }
  }

  /** Frees everything. */
  void releaseAll(int cpu) {
    expire(cpu, Long.MAX_VALUE);
  }

  /** Blocks held. */
  int held() {
    return live.size();
  }

  @Override
  public boolean isolatePage(int pfn, int order, int handle) {
    int i = live.indexOf(handle);
    if (i < 0 || live.pfn(i) != pfn || isolated[handle]) {
      return false;
    }
    isolated[handle] = true;
    return true;
  }

  @Override
  public int migratePage(int dst, int src, int order, int handle) {
    live.setPfn(live.indexOf(handle), dst);
    isolated[handle] = false;
    return MIGRATEPAGE_SUCCESS;
  }

  @Override
  public void putbackPage(int pfn, int order, int handle) {
    isolated[handle] = false;
  }
}
