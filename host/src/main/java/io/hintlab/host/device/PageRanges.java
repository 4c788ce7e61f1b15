package io.hintlab.host.device;

import io.hintlab.host.device.BalloonException.Reason;
import java.util.Arrays;

/**
 * Validated batch of naturally aligned {@code (pfn, order)} ranges. Validation happens before the
 * device changes anything, so a rejected call changes nothing.
 */
public final class PageRanges {
  private final long[] pfns;
  private final long[] nrPages;

  private PageRanges(long[] pfns, long[] nrPages) {
    this.pfns = pfns;
    this.nrPages = nrPages;
  }

  /**
   * Checks a batch: 1..{@code capacity} entries, each order {@code <= maxOrder}, pfn aligned to
   * its order, inside {@code [0, pages)}, no two overlapping.
   *
   * @throws BalloonException TOO_MANY_ENTRIES, MALFORMED_REQUEST, ORDER_TOO_LARGE, MALFORMED_RANGE,
   *     RANGE_OUT_OF_BOUNDS or OVERLAPPING_RANGES, with the offending entry in the message
   */
  public static PageRanges validate(
      long[] pfns, int[] orders, int capacity, int maxOrder, long pages)
      throws BalloonException {
    int n = pfns.length;
    if (n == 0) {
      throw new BalloonException(Reason.MALFORMED_REQUEST, "a batch needs at least one range");
    }
    if (n > capacity) {
      throw new BalloonException(
          Reason.TOO_MANY_ENTRIES, n + " ranges exceed the queue capacity of " + capacity);
    }
    long[] sizes = new long[n];
    for (int i = 0; i < n; i++) {
      long pfn = pfns[i];
      int order = orders[i];
      if (order < 0 || order > maxOrder) {
        throw new BalloonException(
            Reason.ORDER_TOO_LARGE,
            "range " + i + ": order " + Integer.toUnsignedString(order)
                + " exceeds the max order " + maxOrder);
      }
      long size = 1L << order;
      if (pfn < 0 || pfn >= pages || pfn > pages - size) {
        throw new BalloonException(
            Reason.RANGE_OUT_OF_BOUNDS,
            "range " + i + ": pfn " + Long.toUnsignedString(pfn) + " order " + order
                + " ends beyond the guest's " + pages + " pages");
      }
      if ((pfn & (size - 1)) != 0) {
        throw new BalloonException(
            Reason.MALFORMED_RANGE,
            "range " + i + ": pfn " + pfn + " is not aligned to order " + order);
      }
      sizes[i] = size;
    }
    checkOverlap(pfns, sizes);
    return new PageRanges(pfns.clone(), sizes);
  }

  private static void checkOverlap(long[] pfns, long[] sizes) throws BalloonException {
    int n = pfns.length;
    Integer[] idx = new Integer[n]; // n <= queue size; boxing off the per-page path is fine
    for (int i = 0; i < n; i++) {
      idx[i] = i;
    }
    Arrays.sort(idx, (a, b) -> Long.compare(pfns[a], pfns[b]));
    for (int k = 1; k < n; k++) {
      int prev = idx[k - 1];
      int cur = idx[k];
      if (pfns[prev] + sizes[prev] > pfns[cur]) {
        throw new BalloonException(
            Reason.OVERLAPPING_RANGES,
            "ranges " + Math.min(prev, cur) + " and " + Math.max(prev, cur) + " overlap");
      }
    }
  }

  /** Number of ranges. */
  public int size() {
    return pfns.length;
  }

  /** First pfn of range {@code i}. */
  public long pfn(int i) {
    return pfns[i];
  }

  /** Pages of range {@code i}. */
  public long nrPages(int i) {
    return nrPages[i];
  }

  /** Total pages. */
  public long totalPages() {
    long t = 0;
    for (long s : nrPages) {
      t += s;
    }
    return t;
  }

  long[] pfnArray() {
    return pfns;
  }

  long[] nrPagesArray() {
    return nrPages;
  }
}
