package io.hintlab.host.lab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A private (mode 0700) temporary directory for one lab run: the host's Unix socket and the
 * children's log files live here, so no other user can connect to the socket.
 */
public final class LabDir implements AutoCloseable {

  private final Path dir;

  private LabDir(Path dir) {
    this.dir = dir;
  }

  /** Creates a fresh directory under the system temp dir with permissions rwx------. */
  public static LabDir create() throws IOException {
    // createTempDirectory applies the attribute atomically: never briefly world-readable
    return new LabDir(
        Files.createTempDirectory(
            "hintlab-lab-",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"))));
  }

  /** The directory. */
  public Path path() {
    return dir;
  }

  /** A path inside the directory. */
  public Path resolve(String name) {
    return dir.resolve(name);
  }

  /**
   * Deletes the directory except files named {@code *.log} when {@code keepLogs} is set (a
   * failed run keeps its logs so error messages can point at them).
   */
  public void delete(boolean keepLogs) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        if (keepLogs && (p.equals(dir) || p.getFileName().toString().endsWith(".log"))) {
          continue;
        }
        Files.deleteIfExists(p);
      }
    }
  }

  /** Deletes everything. */
  @Override
  public void close() throws IOException {
    delete(false);
  }
}
