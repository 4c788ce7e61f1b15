package io.hintlab.host.migration;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.hintlab.host.memory.NativeLibc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * Finds which pages of a sparse guest RAM file hold data, WITHOUT reading them: reading a hole
 * of a tmpfs file would allocate it. Walks the file with {@code lseek(SEEK_DATA)} /
 * {@code lseek(SEEK_HOLE)}; the migration engine sends every page outside the data map as a
 * cheap zero page (as QEMU sends a discarded page, cf. its zero-page detection in ram.c).
 */
public final class HoleScanner {
  private static final int SEEK_DATA = 3;
  private static final int SEEK_HOLE = 4;
  private static final int ENXIO = 6;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final MethodHandle LSEEK =
      LINKER.downcallHandle(
          LINKER.defaultLookup().find("lseek").orElseThrow(() -> new UnsatisfiedLinkError("lseek")),
          FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT),
          Linker.Option.captureCallState("errno"));

  private HoleScanner() {}

  /**
   * Returns a bitmap (bit {@code pfn % 64} of word {@code pfn / 64}) with a bit set for every
   * page of {@code file} that has data in any of its bytes; pages entirely inside holes are clear.
   *
   * @param file the guest RAM file (tmpfs or any file system with SEEK_DATA support)
   * @param pages number of pages to scan
   * @param pageSize page size in bytes
   * @throws IllegalArgumentException if {@code pages} or {@code pageSize} is not positive
   * @throws IOException if the file cannot be opened or lseek fails
   */
  public static long[] dataPages(Path file, int pages, int pageSize) throws IOException {
    if (pages <= 0 || pageSize <= 0) {
      throw new IllegalArgumentException(
          "pages and pageSize must be > 0, got " + pages + " and " + pageSize);
    }
    long[] bits = new long[(pages + 63) >>> 6];
    long end = (long) pages * pageSize;
    int fd = NativeLibc.open(file);
    try (Arena a = Arena.ofConfined()) {
      MemorySegment err = a.allocate(CAPTURE);
      long pos = 0;
      while (pos < end) {
        long data = lseek(fd, pos, SEEK_DATA, err);
        if (data < 0 || data >= end) {
          break; // ENXIO: no data at or after pos
        }
        long hole = Math.min(end, lseek(fd, data, SEEK_HOLE, err));
        for (long pfn = data / pageSize; pfn * pageSize < hole; pfn++) {
          bits[(int) (pfn >>> 6)] |= 1L << pfn;
        }
        pos = hole;
      }
    } finally {
      NativeLibc.close(fd);
    }
    return bits;
  }

  private static long lseek(int fd, long offset, int whence, MemorySegment err)
      throws IOException {
    long r;
    try {
      r = (long) LSEEK.invokeExact(err, fd, offset, whence);
    } catch (Throwable t) {
      throw new IOException("lseek: " + t, t);
    }
    if (r < 0) {
      int errno = (int) ERRNO.get(err, 0L);
      if (errno == ENXIO) {
        return -1;
      }
      throw new IOException("lseek(" + offset + ", " + whence + ") failed: errno " + errno);
    }
    return r;
  }
}
