package io.hintlab.guest.ram;

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
 * The libc calls the tests need to play the host (toolchain.md §3.3): open, close, fallocate
 * (PUNCH_HOLE | KEEP_SIZE), memfd_create, ftruncate. Errors become IOExceptions with errno.
 */
final class TestLibc {
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
  private static final MethodHandle MEMFD_CREATE =
      bind("memfd_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), false);
  private static final MethodHandle FTRUNCATE =
      bind("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), false);

  private static final int O_RDWR = 2;
  private static final int O_CLOEXEC = 02000000;
  private static final int FALLOC_FL_KEEP_SIZE = 0x01;
  private static final int FALLOC_FL_PUNCH_HOLE = 0x02;
  private static final int MFD_CLOEXEC = 0x0001;

  private TestLibc() {}

  private static MethodHandle bind(String name, FunctionDescriptor fd, boolean variadicAfter2) {
    MemorySegment sym =
        LINKER.defaultLookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError(name));
    Linker.Option capture = Linker.Option.captureCallState("errno");
    return variadicAfter2
        ? LINKER.downcallHandle(sym, fd, capture, Linker.Option.firstVariadicArg(2))
        : LINKER.downcallHandle(sym, fd, capture);
  }

  private static IOException fail(String call, MemorySegment err) {
    return new IOException(call + " failed: errno " + (int) ERRNO.get(err, 0L));
  }

  static int open(Path path) throws IOException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment err = a.allocate(CAPTURE);
      int fd = (int) OPEN.invokeExact(err, a.allocateFrom(path.toString()), O_RDWR | O_CLOEXEC);
      if (fd < 0) {
        throw fail("open(" + path + ")", err);
      }
      return fd;
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  static void close(int fd) throws IOException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment err = a.allocate(CAPTURE);
      if ((int) CLOSE.invokeExact(err, fd) < 0) {
        throw fail("close(" + fd + ")", err);
      }
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** What the host does to discard: fallocate(PUNCH_HOLE | KEEP_SIZE). */
  static void punchHole(int fd, long offset, long len) throws IOException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment err = a.allocate(CAPTURE);
      int rc =
          (int) FALLOCATE.invokeExact(
              err, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, len);
      if (rc < 0) {
        throw fail("fallocate(PUNCH_HOLE|KEEP_SIZE, " + offset + ", " + len + ")", err);
      }
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** memfd_create(name, MFD_CLOEXEC) then ftruncate(size); returns the fd. */
  static int memfd(String name, long size) throws IOException {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment err = a.allocate(CAPTURE);
      int fd = (int) MEMFD_CREATE.invokeExact(err, a.allocateFrom(name), MFD_CLOEXEC);
      if (fd < 0) {
        throw fail("memfd_create(" + name + ")", err);
      }
      if ((int) FTRUNCATE.invokeExact(err, fd, size) < 0) {
        IOException e = fail("ftruncate(" + fd + ", " + size + ")", err);
        close(fd);
        throw e;
      }
      return fd;
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }
}
