package io.hintlab.host.memory;

/**
 * What one {@link GuestMemory#discard} call did.
 *
 * @param discardedPages pages whose backing was freed now
 * @param alreadyDiscardedPages pages that were already discarded and untouched since
 * @param ignored true when the range was skipped (not aligned to the backing page size)
 */
public record DiscardOutcome(long discardedPages, long alreadyDiscardedPages, boolean ignored) {
  /** The outcome of a skipped range. */
  public static final DiscardOutcome IGNORED = new DiscardOutcome(0, 0, true);
}
