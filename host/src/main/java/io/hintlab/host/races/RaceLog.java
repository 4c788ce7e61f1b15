package io.hintlab.host.races;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host-wide race event log: a bounded ring buffer, oldest events overwritten first and counted
 * as dropped. Sequence numbers grow without gaps, so a reader can poll with "since".
 *
 * <p><b>Note:</b> thread-safe; every method synchronizes on the log (appends are rare compared
 * with reports, and each holds the lock for a few stores).
 */
public final class RaceLog {
  private static final Logger LOG = LoggerFactory.getLogger(RaceLog.class);
  /** Default capacity: enough for a long experiment's interesting events, ~1 MiB of records. */
  public static final int DEFAULT_CAPACITY = 16_384;

  private final RaceEvent[] ring;
  private long next; // sequence of the next event

  /** Creates a log holding at most {@code capacity} events. */
  public RaceLog(int capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity must be positive, was " + capacity);
    }
    this.ring = new RaceEvent[capacity];
  }

  /** Creates a log of {@link #DEFAULT_CAPACITY}. */
  public RaceLog() {
    this(DEFAULT_CAPACITY);
  }

  /** Appends an event stamped with the current monotonic time and returns it. */
  public RaceEvent append(String guestId, RaceKind kind, long pfn, String detail) {
    RaceEvent e;
    synchronized (this) {
      e = new RaceEvent(next, guestId, kind, pfn, System.nanoTime(), detail);
      ring[(int) (next % ring.length)] = e;
      next++;
    }
    LOG.debug("race: guest {} {} pfn {}: {}", guestId, kind.wireName(), pfn, detail);
    return e;
  }

  /**
   * Events with {@code sequence >= since}, oldest first, at most {@code limit}, optionally only
   * one guest's.
   *
   * @param guestId null or empty for every guest
   */
  public synchronized List<RaceEvent> since(long since, int limit, String guestId) {
    long oldest = Math.max(0, next - ring.length);
    List<RaceEvent> out = new ArrayList<>();
    for (long s = Math.max(since, oldest); s < next && out.size() < limit; s++) {
      RaceEvent e = ring[(int) (s % ring.length)];
      if (guestId == null || guestId.isEmpty() || guestId.equals(e.guestId())) {
        out.add(e);
      }
    }
    return out;
  }

  /** Events overwritten because the ring was full. */
  public synchronized long dropped() {
    return Math.max(0, next - ring.length);
  }

  /** Events appended so far. */
  public synchronized long total() {
    return next;
  }
}
