package io.hintlab.host.migration;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.locks.LockSupport;

/**
 * "Sends" guest pages by copying them from the source RAM segment into the destination segment,
 * paced in real time at a {@link Bandwidth}. An all-zero page, or a page the caller knows to be a
 * hole, travels as a zero page: only a small header crosses the link and the destination page is
 * zeroed (mirrors save_zero_page() in QEMU's ram.c). Not thread-safe: one migration thread owns it.
 */
public final class PageSender {
  /** Bytes a zero page costs on the link (QEMU sends a page header and a flag). */
  public static final int ZERO_PAGE_WIRE_BYTES = 9;
  /** Per-page header of a normal page. */
  public static final int PAGE_HEADER_BYTES = 8;

  private final MemorySegment source;
  private final MemorySegment destination;
  private final int pageSize;
  private final Bandwidth bandwidth;
  private final long startNanos;
  private long wireBytes;
  private long normalPages;
  private long zeroPages;

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
    this.startNanos = System.nanoTime();
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
    if (zero) {
      dst.fill((byte) 0);
      zeroPages++;
      wireBytes += ZERO_PAGE_WIRE_BYTES;
    } else {
      dst.copyFrom(src);
      normalPages++;
      wireBytes += PAGE_HEADER_BYTES + pageSize;
    }
    pace();
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

  // Sleeps until the wall clock catches up with the link time of the bytes sent so far, so the
  // guest's hinting races a migration thread that moves at the configured rate.
  private void pace() {
    long due = startNanos + bandwidth.nanosFor(wireBytes);
    long wait = due - System.nanoTime();
    if (wait > 200_000) {
      LockSupport.parkNanos(wait);
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

  /** Zero pages sent. */
  public long zeroPages() {
    return zeroPages;
  }

  /** Simulated link time of everything sent so far, in milliseconds. */
  public long linkMillis() {
    return bandwidth.nanosFor(wireBytes) / 1_000_000;
  }
}
