package io.hintlab.host.memory;

/**
 * Receives pfns found dirty by a dirty-log sync of {@link GuestMemory}. Several consumers (the
 * migration bitmap, a hinting round) each see every dirty page although the shared log is cleared
 * by the first sync.
 *
 * <p><b>Note:</b> called with the {@link GuestMemory} lock held, from whatever thread synced; keep
 * it short and never call back into the memory.
 */
@FunctionalInterface
public interface DirtySink {
  /** {@code pfn} was written since the previous sync. */
  void markDirty(long pfn);
}
