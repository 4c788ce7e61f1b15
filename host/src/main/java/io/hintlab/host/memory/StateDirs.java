package io.hintlab.host.memory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Where guest RAM files live: a private (0700) directory, on tmpfs ({@code /dev/shm}) when it
 * exists so a punched hole really gives memory back.
 */
public final class StateDirs {
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rwx------");

  private StateDirs() {}

  /** {@code /dev/shm/hintlab-<user>} when /dev/shm is a writable directory, else the temp dir. */
  public static Path defaultBase() {
    String user = System.getProperty("user.name", "user");
    Path shm = Path.of("/dev/shm");
    Path root =
        Files.isDirectory(shm) && Files.isWritable(shm)
            ? shm
            : Path.of(System.getProperty("java.io.tmpdir"));
    return root.resolve("hintlab-" + user);
  }

  /**
   * Creates {@code base} (0700) if needed, checks it is ours and private, and returns a fresh
   * 0700 subdirectory for one host process.
   *
   * @throws IOException if {@code base} exists with other permissions
   */
  public static Path createHostDir(Path base) throws IOException {
    ensurePrivateDir(base);
    return Files.createTempDirectory(
        base, "host-", PosixFilePermissions.asFileAttribute(OWNER_ONLY));
  }

  /** Creates {@code dir} with mode 0700, or checks an existing one has exactly that mode. */
  public static void ensurePrivateDir(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
      Files.setPosixFilePermissions(dir, OWNER_ONLY);
    }
    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir);
    if (!perms.equals(OWNER_ONLY)) {
      throw new IOException(
          dir + " must have mode 0700, has " + PosixFilePermissions.toString(perms));
    }
  }

  /** Deletes {@code dir} and the regular files directly in it (best effort). */
  public static void deleteTree(Path dir) {
    try (var s = Files.list(dir)) {
      s.forEach(
          p -> {
            try {
              Files.deleteIfExists(p);
            } catch (IOException ignored) {
              // best effort: a leftover file in a private directory harms nobody
            }
          });
      Files.deleteIfExists(dir);
    } catch (IOException ignored) {
      // best effort, as above
    }
  }
}
