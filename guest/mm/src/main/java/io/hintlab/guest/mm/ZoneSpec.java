package io.hintlab.guest.mm;

/**
 * The layout of one zone: where it starts, how many pfns it spans, and how many of its present
 * pages are reserved (never given to the buddy allocator, so present - reserved = managed).
 * At boot ({@link PageAllocator}) reserved pages sit at the start of the zone, where firmware and
 * the kernel image live; an importer rebuilding a real machine's state may place them elsewhere.
 *
 * @param type the zone type
 * @param startPfn zone_start_pfn
 * @param spannedPages spanned_pages (= present_pages; the model has no holes inside a zone)
 * @param reservedPages present_pages - managed_pages
 */
public record ZoneSpec(ZoneType type, int startPfn, int spannedPages, int reservedPages) {
  /** Validates the spec. */
  public ZoneSpec {
    if (type == null || type == ZoneType.DEVICE) {
      throw new IllegalArgumentException("zone type must be DMA, DMA32, Normal or Movable");
    }
    if (startPfn < 0 || spannedPages <= 0) {
      throw new IllegalArgumentException(
          "zone " + type.kernelName() + ": startPfn must be >= 0 and spannedPages > 0, got "
              + startPfn + " and " + spannedPages);
    }
    if (reservedPages < 0 || reservedPages > spannedPages) {
      throw new IllegalArgumentException(
          "zone " + type.kernelName() + ": reservedPages must be in [0, " + spannedPages
              + "], got " + reservedPages);
    }
  }

  /** One past the last pfn. */
  public int endPfn() {
    return startPfn + spannedPages;
  }
}
