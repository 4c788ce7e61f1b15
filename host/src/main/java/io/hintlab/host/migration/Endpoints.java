package io.hintlab.host.migration;

import io.hintlab.host.memory.StateDirs;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The two ends of one migration, mapped in one confined arena of the migration thread: the
 * guest's RAM file read-only (the migration never writes the source) and the destination, a
 * sparse 0600 file in a private directory, read-write. {@link #close()} unmaps both and deletes the
 * destination.
 *
 * <p><b>Note:</b> confined to the thread that opened it.
 */
final class Endpoints implements AutoCloseable {
  private final Arena arena;
  private final Path destinationFile;
  private final MemorySegment source;
  private final MemorySegment destination;

  private Endpoints(Arena arena, Path destinationFile, MemorySegment source,
      MemorySegment destination) {
    this.arena = arena;
    this.destinationFile = destinationFile;
    this.source = source;
    this.destination = destination;
  }

  /**
   * Maps {@code ramPath} (a file or {@code /proc/<pid>/fd/<n>} of a memfd) and creates the
   * destination {@code <stem>-*.dest} in {@code dir}, both {@code bytes} long.
   *
   * @throws IOException if a file cannot be opened, created or mapped; nothing is left behind
   */
  static Endpoints open(Path ramPath, long bytes, Path dir, String stem) throws IOException {
    StateDirs.ensurePrivateDir(dir);
    Path dest = Files.createTempFile(dir, stem + "-", ".dest",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Arena arena = Arena.ofConfined();
    boolean ok = false;
    try {
      try (RandomAccessFile raf = new RandomAccessFile(dest.toFile(), "rw")) {
        raf.setLength(bytes); // sparse: pages never sent stay holes
      }
      MemorySegment src;
      try (FileChannel ch = FileChannel.open(ramPath, StandardOpenOption.READ)) {
        src = ch.map(FileChannel.MapMode.READ_ONLY, 0, bytes, arena);
      }
      MemorySegment dst;
      try (FileChannel ch =
          FileChannel.open(dest, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        dst = ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
      }
      ok = true;
      return new Endpoints(arena, dest, src, dst);
    } finally {
      if (!ok) {
        arena.close();
        Files.deleteIfExists(dest);
      }
    }
  }

  /** The guest's RAM, read-only. */
  MemorySegment source() {
    return source;
  }

  /** The destination copy. */
  MemorySegment destination() {
    return destination;
  }

  /** Unmaps both ends and deletes the destination file (best effort). */
  @Override
  public void close() {
    arena.close();
    try {
      Files.deleteIfExists(destinationFile);
    } catch (IOException ignored) {
      // best effort: a leftover file in a private directory harms nobody
    }
  }
}
