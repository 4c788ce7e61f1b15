package io.hintlab.guest.mm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A test owner of movable blocks (LRU pages of a workload, or balloon pages with nonLru): where
 * each block lives, whether it is isolated, which handles refuse isolation, and what the
 * allocator asked of it. It refuses a second isolation of a block, as a real owner must.
 */
final class TrackingOwner implements MovableOps {
  final PageAllocator a;
  final int cls;
  private int[] pfn = new int[1024];
  private int[] order = new int[1024];
  private boolean[] isolated = new boolean[1024];
  private boolean[] refuse = new boolean[1024];
  private final List<Integer> live = new ArrayList<>();
  private final List<Integer> freeHandles = new ArrayList<>();
  private int nextHandle;
  boolean refuseAll;
  int isolations;
  int migrations;
  int putbacks;
  int refusals;

  TrackingOwner(PageAllocator a, boolean nonLru) {
    this.a = a;
    this.cls = a.owners().register(this, nonLru);
  }

  /** Allocates an owned block; returns its handle, or -1. */
  int alloc(int cpu, int ord, int gfp) {
    int h = freeHandles.isEmpty() ? nextHandle++ : freeHandles.remove(freeHandles.size() - 1);
    grow(h);
    int p = a.allocPages(cpu, ord, gfp, PageOwners.owner(cls, h));
    if (p < 0) {
      freeHandles.add(h);
      return -1;
    }
    pfn[h] = p;
    order[h] = ord;
    isolated[h] = false;
    refuse[h] = false;
    live.add(h);
    return h;
  }

  private void grow(int h) {
    if (h >= pfn.length) {
      int n = Math.max(h + 1, pfn.length * 2);
      pfn = Arrays.copyOf(pfn, n);
      order = Arrays.copyOf(order, n);
      isolated = Arrays.copyOf(isolated, n);
      refuse = Arrays.copyOf(refuse, n);
    }
  }

  /** Frees the i-th live block. */
  void freeAt(int cpu, int i) {
    int h = live.get(i);
    live.set(i, live.get(live.size() - 1));
    live.remove(live.size() - 1);
    a.freePages(cpu, pfn[h], order[h]);
    pfn[h] = -1;
    freeHandles.add(h);
  }

  /** Frees a random half of the live blocks. */
  void freeRandomHalf(SplittableRandom r) {
    for (int i = live.size() - 1; i >= 0; i--) {
      if (r.nextBoolean()) {
        freeAt(0, i);
      }
    }
  }

  /** Allocates order-0 blocks with gfp until an allocation fails; returns how many. */
  int fill(int gfp) {
    int n = 0;
    while (alloc(0, 0, gfp) >= 0) {
      n++;
    }
    return n;
  }

  int size() {
    return live.size();
  }

  int handleAt(int i) {
    return live.get(i);
  }

  int pfnOf(int h) {
    return pfn[h];
  }

  void setRefuse(int h, boolean r) {
    refuse[h] = r;
  }

  @Override
  public boolean isolatePage(int p, int ord, int h) {
    if (refuseAll || refuse[h] || isolated[h] || pfn[h] != p || order[h] != ord) {
      refusals++;
      return false;
    }
    isolated[h] = true;
    isolations++;
    return true;
  }

  @Override
  public int migratePage(int dst, int src, int ord, int h) {
    if (!isolated[h] || pfn[h] != src) {
      throw new AssertionError("migrate of a block not isolated: handle " + h);
    }
    pfn[h] = dst;
    isolated[h] = false;
    migrations++;
    return MIGRATEPAGE_SUCCESS;
  }

  @Override
  public void putbackPage(int p, int ord, int h) {
    if (!isolated[h]) {
      throw new AssertionError("putback of a block not isolated: handle " + h);
    }
    isolated[h] = false;
    putbacks++;
  }

  /** Every live block is an allocated block of its order at its pfn, owned by us, not isolated. */
  List<String> violations() {
    List<String> out = new ArrayList<>();
    MemMap mm = a.memMap();
    for (int h : live) {
      int p = pfn[h];
      if (mm.kind(p) != MemMap.K_ALLOC || mm.order(p) != order[h]
          || mm.owner(p) != PageOwners.owner(cls, h) || isolated[h]) {
        out.add("handle " + h + " at pfn " + p + ": kind " + mm.kind(p) + " order "
            + mm.order(p) + " owner " + Integer.toHexString(mm.owner(p))
            + (isolated[h] ? " (still isolated)" : ""));
        if (out.size() > 10) {
          break;
        }
      }
    }
    return out;
  }
}
