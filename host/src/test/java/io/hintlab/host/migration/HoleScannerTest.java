package io.hintlab.host.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.hintlab.host.memory.NativeLibc;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HoleScannerTest {
  private static final int PAGE = 4096;
  private static final int PAGES = 256;

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3})
  void findsWrittenPagesAndPunchedHolesWithoutReading(long seed) throws Exception {
    Path dir = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : null;
    Path file = dir == null ? Files.createTempFile("holes", ".ram")
        : Files.createTempFile(dir, "holes", ".ram");
    try {
      boolean[] written = new boolean[PAGES];
      SplittableRandom rnd = new SplittableRandom(seed);
      try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
        raf.setLength((long) PAGES * PAGE);
        for (int pfn = 0; pfn < PAGES; pfn++) {
          if (rnd.nextInt(3) == 0) {
            raf.seek((long) pfn * PAGE + rnd.nextInt(PAGE));
            raf.write(1);
            written[pfn] = true;
          }
        }
      }
      int fd = NativeLibc.open(file);
      try {
        for (int pfn = 0; pfn < PAGES; pfn++) {
          if (written[pfn] && rnd.nextBoolean()) {
            NativeLibc.punchHole(fd, (long) pfn * PAGE, PAGE);
            written[pfn] = false;
          }
        }
      } finally {
        NativeLibc.close(fd);
      }
      long allocatedBefore = NativeLibc.allocatedBytes(file);
      long[] bits = HoleScanner.dataPages(file, PAGES, PAGE);
      for (int pfn = 0; pfn < PAGES; pfn++) {
        boolean data = (bits[pfn >>> 6] & (1L << pfn)) != 0;
        assertEquals(written[pfn], data, "seed " + seed + " pfn " + pfn);
      }
      // The scan must not fault holes in (reading a tmpfs hole would allocate it).
      assertEquals(allocatedBefore, NativeLibc.allocatedBytes(file), "seed " + seed);
    } finally {
      Files.deleteIfExists(file);
    }
  }

  @Test
  void rejectsNonPositiveSizes() {
    assertThrows(IllegalArgumentException.class,
        () -> HoleScanner.dataPages(Path.of("/nonexistent"), 0, PAGE));
    assertThrows(IllegalArgumentException.class,
        () -> HoleScanner.dataPages(Path.of("/nonexistent"), 1, 0));
  }
}
