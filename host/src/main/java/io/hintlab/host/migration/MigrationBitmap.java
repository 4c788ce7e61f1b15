package io.hintlab.host.migration;

/**
 * The pre-copy migration bitmap: one bit per pfn, set = "must still be sent" (mirrors the
 * RAMBlock bmap of QEMU's migration/ram.c). Initialised all-set so round 0 sends every page;
 * hints only ever clear bits; each bitmap sync ORs in the dirty log fetched since the last sync.
 *
 * <p>Locking: the migration thread and the hint sink both touch the bitmap, so every method is
 * synchronized; the hot loops are over primitive words inside one call.
 */
public final class MigrationBitmap {
  private final int pages;
  private final long[] bits;

  /**
   * Creates an all-set bitmap of {@code pages} bits.
   *
   * @throws IllegalArgumentException if {@code pages} is not positive
   */
  public MigrationBitmap(int pages) {
    if (pages <= 0) {
      throw new IllegalArgumentException("pages must be > 0, got " + pages);
    }
    this.pages = pages;
    this.bits = new long[(pages + 63) >>> 6];
    java.util.Arrays.fill(bits, -1L);
    int tail = pages & 63;
    if (tail != 0) {
      bits[bits.length - 1] = (1L << tail) - 1;
    }
  }

  /** Number of pages covered. */
  public int pages() {
    return pages;
  }

  /** Returns whether {@code pfn} is still to be sent. */
  public synchronized boolean isSet(int pfn) {
    check(pfn);
    return (bits[pfn >>> 6] & (1L << pfn)) != 0;
  }

  /**
   * Clears the bit of {@code pfn} (a hint) and returns whether it was set, i.e. whether the hint
   * saved a send.
   */
  public synchronized boolean clear(int pfn) {
    check(pfn);
    long mask = 1L << pfn;
    boolean was = (bits[pfn >>> 6] & mask) != 0;
    bits[pfn >>> 6] &= ~mask;
    return was;
  }

  /**
   * Takes the next set bit at or after {@code from} and clears it (the migration thread claiming
   * a page to send, cf. migration_bitmap_find_dirty + clear); returns -1 if none.
   */
  public synchronized int takeNext(int from) {
    if (from < 0) {
      throw new IllegalArgumentException("from must be >= 0, got " + from);
    }
    for (int w = from >>> 6; w < bits.length; w++) {
      long word = w == (from >>> 6) ? bits[w] & (-1L << from) : bits[w];
      if (word != 0) {
        int pfn = (w << 6) + Long.numberOfTrailingZeros(word);
        bits[w] &= ~(1L << pfn);
        return pfn;
      }
    }
    return -1;
  }

  /**
   * ORs a fetched dirty log into the bitmap (the bitmap sync between rounds).
   *
   * @param dirty words in the dirty log's layout (bit {@code pfn % 64} of word {@code pfn / 64})
   * @throws IllegalArgumentException if {@code dirty} has a different length
   */
  public synchronized void merge(long[] dirty) {
    if (dirty.length != bits.length) {
      throw new IllegalArgumentException(
          "dirty log has " + dirty.length + " words, bitmap has " + bits.length);
    }
    for (int w = 0; w < bits.length; w++) {
      bits[w] |= dirty[w];
    }
  }

  /** Number of pages still to be sent (the remaining dirty set). */
  public synchronized long count() {
    long n = 0;
    for (long w : bits) {
      n += Long.bitCount(w);
    }
    return n;
  }

  private void check(int pfn) {
    if (pfn < 0 || pfn >= pages) {
      throw new IllegalArgumentException("pfn " + pfn + " out of range [0, " + pages + ")");
    }
  }
}
