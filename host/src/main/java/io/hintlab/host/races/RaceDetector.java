package io.hintlab.host.races;

import io.hintlab.host.memory.GuestMemory;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One guest's race detector: what a real VMM can observe with dirty logging.
 *
 * <p>Around every discard the device syncs the dirty log for the range twice: before (writes up to
 * the host's receipt of the report; legitimate, since the guest wrote the page before freeing it)
 * and after (writes between the receipt and the end of the discard). Only the second kind is a
 * race the host can prove. What it cannot see: writes between the guest isolating the pages and
 * the host receiving them (they look like writes from before the free) — those are the detector's
 * misses, which the guest's lost-write count exposes.
 *
 * <p><b>Note:</b> thread-safe (atomic counters; the log synchronizes).
 */
public final class RaceDetector {
  private final String guestId;
  private final RaceLog log;
  private final AtomicLongArray counts = new AtomicLongArray(RaceKind.values().length);

  /** Creates a detector writing to {@code log} under {@code guestId}. */
  public RaceDetector(String guestId, RaceLog log) {
    this.guestId = guestId;
    this.log = log;
  }

  /** Syncs the range before a discard, so later dirty bits mean writes after the receipt. */
  public void beforeDiscard(GuestMemory memory, long pfn, long nrPages) {
    memory.syncDirty(pfn, nrPages, null);
  }

  /**
   * Syncs the range after a discard and records a {@code kind} event per page found dirty.
   *
   * @return pages found written during the discard
   */
  public long afterDiscard(GuestMemory memory, long pfn, long nrPages, RaceKind kind) {
    return memory.syncDirty(
        pfn, nrPages, p -> record(kind, p, "written between receipt and discard end"));
  }

  /** Records one event and counts it. */
  public void record(RaceKind kind, long pfn, String detail) {
    counts.incrementAndGet(kind.ordinal());
    log.append(guestId, kind, pfn, detail);
  }

  /** Events of {@code kind} seen so far. */
  public long count(RaceKind kind) {
    return counts.get(kind.ordinal());
  }

  /** Every kind's count. */
  public Map<RaceKind, Long> counts() {
    Map<RaceKind, Long> m = new EnumMap<>(RaceKind.class);
    for (RaceKind k : RaceKind.values()) {
      m.put(k, count(k));
    }
    return m;
  }

  /** Total events of every kind. */
  public long total() {
    long t = 0;
    for (int i = 0; i < counts.length(); i++) {
      t += counts.get(i);
    }
    return t;
  }
}
