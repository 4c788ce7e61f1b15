package io.hintlab.guest.mm;

/**
 * Copies the contents of a migrating block in guest RAM (the model's {@code folio_copy()}). The
 * allocator model itself holds no page contents; the guest runtime installs a copier when RAM is
 * attached.
 */
@FunctionalInterface
public interface PageCopier {
  /** No RAM attached: nothing to copy. */
  PageCopier NONE = (dst, src, order) -> {};

  /** Copies 2^order pages from src to dst. */
  void copy(int dst, int src, int order);
}
