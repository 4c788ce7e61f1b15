package io.hintlab.guest.mm;

import java.util.Arrays;

/**
 * A growable deque of pfns in a primitive ring buffer: the model's {@code struct list_head} for
 * compaction's private lists (cc->freepages[order], cc->migratepages), with list_add (head),
 * list_add_tail and list_first_entry/list_del.
 */
final class PfnDeque {
  private int[] buf = new int[16];
  private int head;
  private int size;

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  /** list_add(): at the head. */
  void addFirst(int pfn) {
    grow();
    head = (head - 1) & (buf.length - 1);
    buf[head] = pfn;
    size++;
  }

  /** list_add_tail(). */
  void addLast(int pfn) {
    grow();
    buf[(head + size) & (buf.length - 1)] = pfn;
    size++;
  }

  /** list_first_entry() + list_del(). */
  int pollFirst() {
    if (size == 0) {
      throw new IllegalStateException("empty list");
    }
    int pfn = buf[head];
    head = (head + 1) & (buf.length - 1);
    size--;
    return pfn;
  }

  private void grow() {
    if (size < buf.length) {
      return;
    }
    int[] n = new int[buf.length * 2];
    for (int i = 0; i < size; i++) {
      n[i] = buf[(head + i) & (buf.length - 1)];
    }
    buf = n;
    head = 0;
  }

  @Override
  public String toString() {
    int[] out = new int[size];
    for (int i = 0; i < size; i++) {
      out[i] = buf[(head + i) & (buf.length - 1)];
    }
    return Arrays.toString(out);
  }
}
