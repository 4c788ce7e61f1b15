package io.hintlab.guest.mm;

/**
 * Called by {@code __free_one_page()} for every block that lands on a free list without
 * FPI_SKIP_REPORT_NOTIFY: the model's {@code page_reporting_notify_free()} hook
 * (mm/page_reporting.h).
 *
 * <p><b>Note:</b> runs under the zone lock on the freeing thread; it must be cheap and must not
 * call back into the allocator.
 */
@FunctionalInterface
public interface FreePageNotifier {
  /** No-op notifier. */
  FreePageNotifier NONE = (zone, order) -> {};

  /**
   * A block of {@code order} was freed to a free list of {@code zone}.
   *
   * @param zone the zone
   * @param order the order of the block after merging
   */
  void onFree(Zone zone, int order);
}
