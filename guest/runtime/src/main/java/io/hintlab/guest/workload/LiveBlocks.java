package io.hintlab.guest.workload;

import java.util.Arrays;

/**
 * The blocks a workload holds: parallel primitive arrays of head pfn and order, no object per
 * allocation. Removal swaps the last entry into the hole, so a random live block is freed in O(1).
 * Each block also has a stable handle (its owner handle for the allocator's reverse map), so that
 * a migration can find the block wherever removals have moved its entry.
 *
 * <p><b>Note:</b> not thread-safe; one workload thread owns it.
 */
public final class LiveBlocks {
  private int[] pfn;
  private byte[] order;
  private int[] handle;
  /** Index of each handle's block, or -1 for a free handle. */
  private int[] indexOfHandle;
  /** Free handles (a stack); handles are reused, the highest ever used is nextHandle - 1. */
  private int[] freeHandles;
  private int nrFreeHandles;
  private int nextHandle;
  private int size;
  private long pages;

  /** An empty set with room for {@code capacity} blocks before it grows. */
  public LiveBlocks(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
    }
    this.pfn = new int[capacity];
    this.order = new byte[capacity];
    this.handle = new int[capacity];
    this.indexOfHandle = new int[capacity];
    this.freeHandles = new int[capacity];
  }

  /** Number of blocks held. */
  public int size() {
    return size;
  }

  /** Pages held (the sum of 2^order over the blocks). */
  public long pages() {
    return pages;
  }

  /** Head pfn of the i-th block. */
  public int pfn(int i) {
    return pfn[i];
  }

  /** Order of the i-th block. */
  public int order(int i) {
    return order[i];
  }

  /** The stable handle of the i-th block. */
  public int handle(int i) {
    return handle[i];
  }

  /** The index of the block with handle h now, or -1 if no block has it. */
  public int indexOf(int h) {
    return h >= 0 && h < nextHandle ? indexOfHandle[h] : -1;
  }

  /** Moves the i-th block to another head pfn (it was migrated). */
  public void setPfn(int i, int headPfn) {
    if (i < 0 || i >= size) {
      throw new IllegalArgumentException("index must be in [0, " + size + "), got " + i);
    }
    pfn[i] = headPfn;
  }

  /** A handle for a block about to be allocated; give it back with {@link #releaseHandle}. */
  public int reserveHandle() {
    if (nrFreeHandles > 0) {
      return freeHandles[--nrFreeHandles];
    }
    if (nextHandle == indexOfHandle.length) {
      indexOfHandle = Arrays.copyOf(indexOfHandle, nextHandle + (nextHandle >> 1) + 16);
    }
    indexOfHandle[nextHandle] = -1;
    return nextHandle++;
  }

  /** Returns a reserved handle that no block took. */
  public void releaseHandle(int h) {
    if (nrFreeHandles == freeHandles.length) {
      freeHandles = Arrays.copyOf(freeHandles, nrFreeHandles + (nrFreeHandles >> 1) + 16);
    }
    indexOfHandle[h] = -1;
    freeHandles[nrFreeHandles++] = h;
  }

  /** Adds a block under a new handle. */
  public void add(int headPfn, int ord) {
    add(headPfn, ord, reserveHandle());
  }

  /** Adds a block under a handle from {@link #reserveHandle}. */
  public void add(int headPfn, int ord, int h) {
    if (size == pfn.length) {
      int n = size + (size >> 1) + 16;
      pfn = Arrays.copyOf(pfn, n);
      order = Arrays.copyOf(order, n);
      handle = Arrays.copyOf(handle, n);
    }
    pfn[size] = headPfn;
    order[size] = (byte) ord;
    handle[size] = h;
    indexOfHandle[h] = size;
    size++;
    pages += 1L << ord;
  }

  /** Removes the i-th block; the last block takes its index. */
  public void removeAt(int i) {
    if (i < 0 || i >= size) {
      throw new IllegalArgumentException("index must be in [0, " + size + "), got " + i);
    }
    pages -= 1L << order[i];
    releaseHandle(handle[i]);
    size--;
    pfn[i] = pfn[size];
    order[i] = order[size];
    handle[i] = handle[size];
    if (i != size) {
      indexOfHandle[handle[i]] = i;
    }
  }
}
