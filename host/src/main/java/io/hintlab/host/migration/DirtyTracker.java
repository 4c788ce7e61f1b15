package io.hintlab.host.migration;

import io.hintlab.host.memory.DirtySink;
import java.util.Arrays;

/**
 * Stage one of QEMU's dirty tracking (the KVM dirty log copied into ram_list.dirty_memory by
 * memory_global_dirty_log_sync()): registered with the guest's memory as a {@link DirtySink}, it
 * collects every page ANY dirty-log sync finds. The device's own syncs (around a report's discard,
 * for instance) fetch-and-clear bits too, and a migration that only looked at its own syncs would
 * lose those writes. {@link #drainInto} hands the collected pages to the bitmap sync.
 *
 * <p>Locking: {@link #markDirty} is called with the memory's lock held; it takes only this
 * object's lock, which nothing else holds while calling out.
 */
final class DirtyTracker implements DirtySink {
  private final long[] words; // guarded by this

  DirtyTracker(int pages) {
    this.words = new long[(pages + 63) >>> 6];
  }

  @Override
  public synchronized void markDirty(long pfn) {
    words[(int) (pfn >>> 6)] |= 1L << pfn;
  }

  /** Moves the collected pages into {@code target} (same length) and forgets them. */
  synchronized void drainInto(long[] target) {
    System.arraycopy(words, 0, target, 0, words.length);
    Arrays.fill(words, 0L);
  }
}
