package io.hintlab.guest.workload;

import java.util.Arrays;

/**
 * The blocks a workload holds: parallel primitive arrays of head pfn and order, no object per
 * allocation. Removal swaps the last entry into the hole, so a random live block is freed in O(1).
 *
 * <p><b>Note:</b> not thread-safe; one workload thread owns it.
 */
public final class LiveBlocks {
  private int[] pfn;
  private byte[] order;
  private int size;
  private long pages;

  /** An empty set with room for {@code capacity} blocks before it grows. */
  public LiveBlocks(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
    }
    this.pfn = new int[capacity];
    this.order = new byte[capacity];
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

  /** Adds a block. */
  public void add(int headPfn, int ord) {
    if (size == pfn.length) {
      int n = size + (size >> 1) + 16;
      pfn = Arrays.copyOf(pfn, n);
      order = Arrays.copyOf(order, n);
    }
    pfn[size] = headPfn;
    order[size] = (byte) ord;
    size++;
    pages += 1L << ord;
  }

  /** Removes the i-th block; the last block takes its index. */
  public void removeAt(int i) {
    if (i < 0 || i >= size) {
      throw new IllegalArgumentException("index must be in [0, " + size + "), got " + i);
    }
    pages -= 1L << order[i];
    size--;
    pfn[i] = pfn[size];
    order[i] = order[size];
  }
}
