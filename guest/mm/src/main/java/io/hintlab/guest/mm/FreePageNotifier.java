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

  /**
   * A block headed by {@code pfn} of {@code order} was freed to a free list of {@code zone}. The
   * free path calls this form; by default it forwards to {@link #onFree(Zone, int)}. Hinting
   * designs that track free blocks by position override it: Nitesh Narayan Lal's page hinting
   * (v10, 2019) hooks {@code __free_one_page()} after {@code done_merging} with the page and its
   * order to set a per-zone bitmap bit, and David Hildenbrand's isolation-based proposal (lkml
   * reply to Alexander Duyck, 2019-11-12) asks for "only a single hook to queue pages".
   *
   * @param zone the zone
   * @param pfn the head pfn of the block after merging
   * @param order the order of the block after merging
   */
  default void onFree(Zone zone, int pfn, int order) {
    onFree(zone, order);
  }
}
