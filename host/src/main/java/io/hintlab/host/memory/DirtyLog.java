package io.hintlab.host.memory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The guest's dirty log, mapped shared: one bit per pfn, bit {@code pfn & 63} of the
 * little-endian 64-bit word {@code pfn >> 6} (device.proto AttachResponse.dirty_log_path).
 *
 * <p>The guest sets bits with an atomic OR (the emulated MMU's dirty bit); the host takes them with
 * an atomic fetch-and-clear, like KVM_GET_DIRTY_LOG + KVM_CLEAR_DIRTY_LOG, so no write is lost
 * between reading and clearing. Thread-safe: every access is a single atomic word operation.
 */
public final class DirtyLog {
  private static final VarHandle WORD =
      ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

  private final MemorySegment log;
  private final long pages;

  DirtyLog(MemorySegment log, long pages) {
    if (log.byteSize() < bytesFor(pages)) {
      throw new IllegalArgumentException(
          "dirty log of " + log.byteSize() + " bytes is too small for " + pages + " pages");
    }
    this.log = log;
    this.pages = pages;
  }

  /** Bytes a dirty log for {@code pages} pfns takes: whole 64-bit words. */
  public static long bytesFor(long pages) {
    return ((pages + 63) >>> 6) * 8;
  }

  /** Number of words. */
  public int words() {
    return (int) ((pages + 63) >>> 6);
  }

  /** Sets the bit of {@code pfn} as the guest does (atomic OR); used by tests and the lab. */
  public void markDirty(long pfn) {
    checkPfn(pfn);
    long unused = (long) WORD.getAndBitwiseOr(log, (pfn >>> 6) * 8, 1L << pfn);
  }

  /** Reads word {@code index} without clearing it. */
  public long peekWord(int index) {
    return (long) WORD.getVolatile(log, (long) index * 8);
  }

  /** Atomically returns word {@code index} and sets it to 0 (getAndSet 0). */
  public long fetchAndClearWord(int index) {
    return (long) WORD.getAndSet(log, (long) index * 8, 0L);
  }

  /** Atomically returns the bits of word {@code index} selected by {@code mask} and clears them. */
  public long fetchAndClearBits(int index, long mask) {
    return ((long) WORD.getAndBitwiseAnd(log, (long) index * 8, ~mask)) & mask;
  }

  private void checkPfn(long pfn) {
    if (pfn < 0 || pfn >= pages) {
      throw new IllegalArgumentException("pfn " + pfn + " outside [0, " + pages + ")");
    }
  }
}
