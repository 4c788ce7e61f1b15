package io.hintlab.guest.mm;

/**
 * Initializes the contents of a freshly allocated block in guest RAM: {@code post_alloc_hook()}'s
 * {@code kernel_init_pages()} when {@code want_init_on_alloc()} (the {@code init_on_alloc=1} boot
 * option, on by default in Debian's kernels). The allocator model holds no page contents; the
 * guest runtime installs an initializer that zeroes the pages in RAM, which also dirties them.
 *
 * <p>Called on the allocating thread after the block left the free lists, with no lock held, for
 * every successful allocation (workload pages, balloon pages, blocks a hinting driver holds).
 */
@FunctionalInterface
public interface PageInitializer {
  /** init_on_alloc=0: pages keep whatever they held. */
  PageInitializer NONE = (pfn, order) -> {};

  /** Initializes 2^order pages from pfn. */
  void initPages(int pfn, int order);
}
