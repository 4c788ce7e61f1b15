package io.hintlab.host.migration;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.locks.LockSupport;

/**
 * "Sends" guest pages by copying them from the source RAM segment into the destination segment,
 * paced in real time at a {@link Bandwidth}. An all-zero page, or a page the caller knows to be a
 * hole, travels as a zero page: only a small header crosses the link and the destination page is
 * zeroed (mirrors save_zero_page() in QEMU's ram.c). Not thread-safe: one migration thread owns it.
 *
 * <p>Pacing: after each page the sender waits until the wall clock reaches the link time of the
 * bytes sent since the link was last idle, so the migration thread moves at the configured rate
 * in real time and a round lasts at least its link time. A link that idled (a bitmap sync, a
 * pause) or a sender that fell behind banks at most {@link #MAX_BANKED_NANOS}, the parking
 * granularity: QEMU's rate limiter would let a burst use the rest of its 100 ms window
 * (BUFFER_DELAY), but a burst that sends a short round in microseconds gives the guest no time to
 * race it. An interrupt ends the wait early, so a stop request is seen at once.
 */
public final class PageSender {
  /** Bytes a zero page costs on the link (QEMU sends a page header and a flag). */
  public static final int ZERO_PAGE_WIRE_BYTES = 9;
  /** Per-page header of a normal page. */
  public static final int PAGE_HEADER_BYTES = 8;
  /**
   * Link time a late sender may catch up in a burst, and the shortest wait worth parking for
   * (parking costs about as much): 0.2 ms.
   */
  public static final long MAX_BANKED_NANOS = 200_000;

  private final MemorySegment source;
  private final MemorySegment destination;
  private final int pageSize;
  private final Bandwidth bandwidth;
  private long paceBaseNanos;
  private long paceBytes;
  private long wireBytes;
  private long normalPages;
  private long zeroPages;
  private long holePages;

  /**
   * Creates a sender between two segments of equal size.
   *
   * @throws IllegalArgumentException if the sizes differ or are not a multiple of the page size
   */
  public PageSender(
      MemorySegment source, MemorySegment destination, int pageSize, Bandwidth bandwidth) {
    if (pageSize <= 0 || source.byteSize() != destination.byteSize()
        || source.byteSize() % pageSize != 0) {
      throw new IllegalArgumentException(
          "source (" + source.byteSize() + " B) and destination (" + destination.byteSize()
              + " B) must be equal multiples of the page size " + pageSize);
    }
    this.source = source;
    this.destination = destination;
    this.pageSize = pageSize;
    this.bandwidth = bandwidth;
    this.paceBaseNanos = System.nanoTime();
  }

  /**
   * Sends page {@code pfn}; returns true if it went as a normal page, false if as a zero page.
   *
   * @param knownHole the caller found the page inside a hole of the source file (do not read it)
   */
  public boolean send(long pfn, boolean knownHole) {
    long off = pfn * pageSize;
    MemorySegment src = source.asSlice(off, pageSize);
    MemorySegment dst = destination.asSlice(off, pageSize);
    boolean zero = knownHole || isZero(src);
    int bytes;
    if (zero) {
      dst.fill((byte) 0);
      zeroPages++;
      holePages += knownHole ? 1 : 0;
      bytes = ZERO_PAGE_WIRE_BYTES;
    } else {
      dst.copyFrom(src);
      normalPages++;
      bytes = PAGE_HEADER_BYTES + pageSize;
    }
    wireBytes += bytes;
    pace(bytes);
    return !zero;
  }

  /** Returns whether every byte of {@code page} is zero (word-wise scan, cf. buffer_is_zero()). */
  public static boolean isZero(MemorySegment page) {
    long n = page.byteSize();
    long i = 0;
    for (; i + 8 <= n; i += 8) {
      if (page.get(ValueLayout.JAVA_LONG_UNALIGNED, i) != 0) {
        return false;
      }
    }
    for (; i < n; i++) {
      if (page.get(ValueLayout.JAVA_BYTE, i) != 0) {
        return false;
      }
    }
    return true;
  }

  // Waits until the wall clock reaches the link time of the bytes sent since the link was last
  // idle, so the guest's hinting races a migration thread that moves at the configured rate.
  private void pace(int bytes) {
    if (bandwidth.unlimited()) {
      return;
    }
    long now = System.nanoTime();
    if (paceBaseNanos + bandwidth.nanosFor(paceBytes) < now - MAX_BANKED_NANOS) {
      paceBaseNanos = now; // idle or late: restart the schedule, banking nothing
      paceBytes = 0;
    }
    paceBytes += bytes;
    long due = paceBaseNanos + bandwidth.nanosFor(paceBytes);
    while (due - now > MAX_BANKED_NANOS && !Thread.currentThread().isInterrupted()) {
      LockSupport.parkNanos(due - now);
      now = System.nanoTime();
    }
  }

  /** Bytes put on the link so far (headers included). */
  public long wireBytes() {
    return wireBytes;
  }

  /** Normal (full-content) pages sent. */
  public long normalPages() {
    return normalPages;
  }

  /** Zero pages sent (all-zero content, or known holes). */
  public long zeroPages() {
    return zeroPages;
  }

  /** Of {@link #zeroPages()}, those the caller knew to be holes (never read). */
  public long holePages() {
    return holePages;
  }

  /** Simulated link time of everything sent so far, in milliseconds. */
  public long linkMillis() {
    return bandwidth.nanosFor(wireBytes) / 1_000_000;
  }

  /** The link this sender paces at. */
  public Bandwidth bandwidth() {
    return bandwidth;
  }
}
