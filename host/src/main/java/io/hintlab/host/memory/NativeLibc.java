package io.hintlab.host.memory;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

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
 * The few libc calls the host needs, bound with the FFM API (x86-64 Linux, glibc >= 2.33):
 * {@code open}, {@code close}, {@code fallocate}, {@code madvise}, {@code fstat}.
 *
 * <p>Errors come back as {@link IOException}s naming the call and errno. Each call allocates its
 * errno capture segment in a confined arena, so the class is thread-safe.
 */
public final class NativeLibc {
  /** {@code FALLOC_FL_KEEP_SIZE} (linux/falloc.h). */
  public static final int FALLOC_FL_KEEP_SIZE = 0x01;
  /** {@code FALLOC_FL_PUNCH_HOLE} (linux/falloc.h). */
  public static final int FALLOC_FL_PUNCH_HOLE = 0x02;
  /** {@code MADV_REMOVE} (asm-generic/mman-common.h): free the backing store of a shared range. */
  public static final int MADV_REMOVE = 9;

  private static final int O_RDWR = 2;
  private static final int O_CLOEXEC = 02000000;
  // struct stat on x86-64: st_blksize at byte 56, st_blocks at byte 64, 144 bytes in all.
  private static final long STAT_SIZE = 144;
  private static final long ST_BLKSIZE_OFFSET = 56;
  private static final long ST_BLOCKS_OFFSET = 64;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final MethodHandle OPEN =
      bind("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), true);
  private static final MethodHandle CLOSE =
      bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), false);
  private static final MethodHandle FALLOCATE =
      bind("fallocate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG),
          false);
  private static final MethodHandle MADVISE =
      bind("madvise", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), false);
  private static final MethodHandle MEMFD_CREATE =
      bind("memfd_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), false);
  private static final MethodHandle FTRUNCATE =
      bind("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), false);
  private static final MethodHandle FSTAT =
      bind("fstat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), false);

  private NativeLibc() {}

  private static MethodHandle bind(String name, FunctionDescriptor fd, boolean variadicAfter2) {
    MemorySegment sym =
        LINKER.defaultLookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError(name));
    Linker.Option capture = Linker.Option.captureCallState("errno");
    return variadicAfter2
        ? LINKER.downcallHandle(sym, fd, capture, Linker.Option.firstVariadicArg(2))
        : LINKER.downcallHandle(sym, fd, capture);
  }

  /** Result of {@link #fstat}: the two fields the host uses. */
  public record Stat(long blocks, long blockSize) {
    /** Bytes really allocated: {@code st_blocks * 512}. */
    public long allocatedBytes() {
      return blocks * 512L;
    }
  }

  /** Opens {@code path} read-write (O_CLOEXEC) and returns the file descriptor. */
  public static int open(Path path) throws IOException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment err = a.allocate(CAPTURE);
      int fd = (int) OPEN.invokeExact(err, a.allocateFrom(path.toString()), O_RDWR | O_CLOEXEC);
      check(fd, err, "open " + path);
      return fd;
    } catch (IOException e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException("open " + path + ": " + t, t);
    }
  }

  /**
   * {@code memfd_create(name, MFD_CLOEXEC)} then {@code ftruncate(fd, size)}: an anonymous sparse
   * shared-memory file, freed when the last fd and mapping go (so a crashed host leaks nothing).
   */
  public static int memfdCreate(String name, long size) throws IOException {
    int fd;
    try (Arena a = Arena.ofConfined()) {
      MemorySegment err = a.allocate(CAPTURE);
      fd = (int) MEMFD_CREATE.invokeExact(err, a.allocateFrom(name), 0x0001 /* MFD_CLOEXEC */);
      check(fd, err, "memfd_create " + name);
      int rc = (int) FTRUNCATE.invokeExact(err, fd, size);
      if (rc < 0) {
        int errno = (int) ERRNO.get(err, 0L);
        close(fd);
        throw new IOException("ftruncate memfd " + name + " failed: errno " + errno);
      }
      return fd;
    } catch (IOException e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException("memfd_create: " + t, t);
    }
  }

  /** Closes a file descriptor; errors are ignored (nothing useful can be done). */
  public static void close(int fd) {
    try (Arena a = Arena.ofConfined()) {
      int unused = (int) CLOSE.invokeExact(a.allocate(CAPTURE), fd);
    } catch (Throwable t) {
      // close(2) failures leave nothing to retry; the fd is gone either way.
    }
  }

  /** {@code fallocate(fd, PUNCH_HOLE | KEEP_SIZE, offset, len)}: frees the range's blocks. */
  public static void punchHole(int fd, long offset, long len) throws IOException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment err = a.allocate(CAPTURE);
      int rc =
          (int)
              FALLOCATE.invokeExact(
                  err, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, len);
      check(rc, err, "fallocate(PUNCH_HOLE) offset " + offset + " len " + len);
    } catch (IOException e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException("fallocate: " + t, t);
    }
  }

  /** {@code madvise(range, MADV_REMOVE)}: the fallback discard for a shared mapping. */
  public static void madviseRemove(MemorySegment range) throws IOException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment err = a.allocate(CAPTURE);
      int rc = (int) MADVISE.invokeExact(err, range, range.byteSize(), MADV_REMOVE);
      check(rc, err, "madvise(MADV_REMOVE) len " + range.byteSize());
    } catch (IOException e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException("madvise: " + t, t);
    }
  }

  /** {@code fstat(fd)}: allocated 512-byte blocks and the preferred I/O block size. */
  public static Stat fstat(int fd) throws IOException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment err = a.allocate(CAPTURE);
      MemorySegment st = a.allocate(STAT_SIZE, 8);
      int rc = (int) FSTAT.invokeExact(err, fd, st);
      check(rc, err, "fstat fd " + fd);
      return new Stat(
          st.get(JAVA_LONG, ST_BLOCKS_OFFSET), st.get(JAVA_LONG, ST_BLKSIZE_OFFSET));
    } catch (IOException e) {
      throw e;
    } catch (Throwable t) {
      throw new IOException("fstat: " + t, t);
    }
  }

  /** Bytes {@code path} really occupies ({@code st_blocks * 512}), via open + fstat + close. */
  public static long allocatedBytes(Path path) throws IOException {
    int fd = open(path);
    try {
      return fstat(fd).allocatedBytes();
    } finally {
      close(fd);
    }
  }

  private static void check(int rc, MemorySegment err, String what) throws IOException {
    if (rc < 0) {
      int errno = (int) ERRNO.get(err, 0L);
      throw new IOException(what + " failed: errno " + errno);
    }
  }
}
