package io.hintlab.host.memory;

import java.util.Arrays;

/**
 * A fixed-size set of pfns as a {@code long[]}: bit {@code pfn & 63} of word {@code pfn >> 6}.
 *
 * <p><b>Note:</b> not thread-safe; owners guard it (see {@link GuestMemory}'s locking comment).
 */
public final class PageBitmap {
  private final long[] words;
  private final long size;

  /**
   * Creates an empty bitmap.
   *
   * @param size number of pfns, {@code >= 0}
   */
  public PageBitmap(long size) {
    if (size < 0 || size > (long) Integer.MAX_VALUE * 64) {
      throw new IllegalArgumentException("size must be in [0, 2^37], was " + size);
    }
    this.size = size;
    this.words = new long[(int) ((size + 63) >>> 6)];
  }

  /** Number of pfns the bitmap covers. */
  public long size() {
    return size;
  }

  /** Sets one bit; returns true if it was clear. */
  public boolean set(long pfn) {
    int w = (int) (pfn >>> 6);
    long bit = 1L << pfn;
    boolean was = (words[w] & bit) != 0;
    words[w] |= bit;
    return !was;
  }

  /** Clears one bit; returns true if it was set. */
  public boolean clear(long pfn) {
    int w = (int) (pfn >>> 6);
    long bit = 1L << pfn;
    boolean was = (words[w] & bit) != 0;
    words[w] &= ~bit;
    return was;
  }

  /** Whether {@code pfn} is set. */
  public boolean test(long pfn) {
    return (words[(int) (pfn >>> 6)] & (1L << pfn)) != 0;
  }

  /** Sets {@code [from, from + n)}; returns how many bits were newly set. */
  public long setRange(long from, long n) {
    long added = 0;
    for (long p = from, end = from + n; p < end; p++) {
      if (set(p)) {
        added++;
      }
    }
    return added;
  }

  /** Clears {@code [from, from + n)}; returns how many bits were set before. */
  public long clearRange(long from, long n) {
    long removed = 0;
    for (long p = from, end = from + n; p < end; p++) {
      if (clear(p)) {
        removed++;
      }
    }
    return removed;
  }

  /** Number of set bits in {@code [from, from + n)}. */
  public long countRange(long from, long n) {
    long c = 0;
    for (long p = from, end = from + n; p < end; p++) {
      if (test(p)) {
        c++;
      }
    }
    return c;
  }

  /** The first set bit at or after {@code from}, or -1. */
  public long nextSetBit(long from) {
    if (from >= size) {
      return -1;
    }
    int w = (int) (from >>> 6);
    long word = words[w] & (-1L << from);
    while (true) {
      if (word != 0) {
        long pfn = ((long) w << 6) + Long.numberOfTrailingZeros(word);
        return pfn < size ? pfn : -1;
      }
      if (++w == words.length) {
        return -1;
      }
      word = words[w];
    }
  }

  /** Number of set bits. */
  public long cardinality() {
    long c = 0;
    for (long w : words) {
      c += Long.bitCount(w);
    }
    return c;
  }

  /** Clears every bit. */
  public void clearAll() {
    Arrays.fill(words, 0L);
  }

  /** ORs word {@code index} with {@code bits} (bulk merge from a dirty log). */
  void orWord(int index, long bits) {
    words[index] |= bits;
  }

  /** Word {@code index} of the bitmap. */
  long word(int index) {
    return words[index];
  }
}
