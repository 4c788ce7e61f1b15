package io.hintlab.guest.mm;

/**
 * Page geometry of the modelled machine: page size, number of buddy orders and pageblock order.
 *
 * <p>x86-64 defaults mirror {@code include/linux/mmzone.h} ({@code MAX_PAGE_ORDER = 10},
 * {@code NR_PAGE_ORDERS = 11}) and {@code include/linux/pageblock-flags.h} ({@code pageblock_order
 * = HPAGE_PMD_ORDER = 9}). arm64 with 64 KiB pages is {@code new Geometry(16, 14, 13)}.
 *
 * @param pageShift log2 of the page size in bytes (PAGE_SHIFT)
 * @param nrPageOrders number of buddy orders (NR_PAGE_ORDERS); orders run 0..nrPageOrders-1
 * @param pageblockOrder pageblock_order; at most MAX_PAGE_ORDER (the kernel's #error)
 */
public record Geometry(int pageShift, int nrPageOrders, int pageblockOrder) {

  /** x86-64 with 4 KiB pages: PAGE_SHIFT 12, NR_PAGE_ORDERS 11, pageblock_order 9. */
  public static final Geometry X86_64 = new Geometry(12, 11, 9);

  /** Validates the geometry the way the kernel's build-time checks do. */
  public Geometry {
    if (pageShift < 9 || pageShift > 20) {
      throw new IllegalArgumentException("pageShift must be in [9, 20], got " + pageShift);
    }
    if (nrPageOrders < 1 || nrPageOrders > 15) {
      throw new IllegalArgumentException("nrPageOrders must be in [1, 15], got " + nrPageOrders);
    }
    if (pageblockOrder < 0 || pageblockOrder > nrPageOrders - 1) {
      // mmzone.h: #error if PAGE_BLOCK_MAX_ORDER > MAX_PAGE_ORDER
      throw new IllegalArgumentException(
          "pageblockOrder must be in [0, MAX_PAGE_ORDER=" + (nrPageOrders - 1) + "], got "
              + pageblockOrder);
    }
  }

  /** MAX_PAGE_ORDER: the largest buddy order. */
  public int maxPageOrder() {
    return nrPageOrders - 1;
  }

  /** PAGE_SIZE in bytes. */
  public long pageSize() {
    return 1L << pageShift;
  }

  /** pageblock_nr_pages. */
  public int pageblockNrPages() {
    return 1 << pageblockOrder;
  }

  /** MAX_ORDER_NR_PAGES. */
  public int maxOrderNrPages() {
    return 1 << maxPageOrder();
  }

  /** pageblock_start_pfn(pfn). */
  public int pageblockStartPfn(int pfn) {
    return pfn & -pageblockNrPages();
  }

  /** pageblock_end_pfn(pfn): the first pfn of the next pageblock. */
  public int pageblockEndPfn(int pfn) {
    return pageblockStartPfn(pfn) + pageblockNrPages();
  }

  /** pageblock_align(pfn): pfn rounded up to a pageblock boundary. */
  public int pageblockAlign(int pfn) {
    int nr = pageblockNrPages();
    return (pfn + nr - 1) & -nr;
  }

  /** PAGE_ALLOC_COSTLY_ORDER (include/linux/mmzone.h): 3. */
  public static final int PAGE_ALLOC_COSTLY_ORDER = 3;

  /** Kilobytes per page: 1 << (PAGE_SHIFT - 10). */
  public int kbPerPage() {
    return 1 << (pageShift - 10);
  }
}
