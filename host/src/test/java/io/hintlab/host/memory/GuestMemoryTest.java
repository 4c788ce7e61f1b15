package io.hintlab.host.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GuestMemoryTest {
  private static final int PAGE = 4096;
  private static final long MIB = 1 << 20;
  private Path dir;
  private GuestMemory mem;

  @BeforeEach
  void setUp() throws IOException {
    dir = StateDirs.createHostDir(StateDirs.defaultBase());
    mem = GuestMemory.create(dir, "g", 8 * MIB, PAGE);
  }

  @AfterEach
  void tearDown() throws IOException {
    mem.close();
    StateDirs.deleteTree(dir);
  }

  /** Writes every page of the range through a second mapping, as the guest does. */
  private void populate(long pfn, long pages) throws IOException {
    try (Arena a = Arena.ofConfined();
        FileChannel ch =
            FileChannel.open(mem.ramPath(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      var seg = ch.map(FileChannel.MapMode.READ_WRITE, pfn * PAGE, pages * PAGE, a);
      for (long p = 0; p < pages; p++) {
        seg.set(ValueLayout.JAVA_LONG, p * PAGE, 0x5eed0000L + pfn + p);
      }
    }
  }

  @Test
  void shouldCreateSparsePrivateFiles() throws IOException {
    assertEquals(0, mem.allocatedBytes());
    assertEquals(8 * MIB, Files.size(mem.ramPath()));
    assertEquals(
        "rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(mem.ramPath())));
    assertEquals(
        "rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    assertEquals(PAGE, mem.backingPageSize());
  }

  @Test
  void shouldLowerAllocatedBlocksWhenRangeDiscarded() throws IOException {
    populate(0, 1024);
    assertEquals(4 * MIB, mem.allocatedBytes());
    DiscardOutcome out = mem.discard(512, 512);
    assertEquals(512, out.discardedPages());
    assertEquals(2 * MIB, mem.allocatedBytes());
    assertEquals(512, mem.discardedPages());
    assertTrue(mem.isDiscarded(700));
    assertFalse(mem.isDiscarded(100));
    assertEquals(4 * MIB, mem.peakAllocatedBytes());
    DiscardOutcome again = mem.discard(512, 512);
    assertEquals(512, again.alreadyDiscardedPages());
  }

  @Test
  void shouldIgnoreAndCountRangesNotAlignedToBackingPage() throws IOException {
    GuestMemory small = GuestMemory.create(dir, "h", MIB, 1024);
    try {
      assertTrue(small.discard(1, 4).ignored());
      assertEquals(1, small.misalignedRanges());
      assertFalse(small.discard(4, 4).ignored());
    } finally {
      small.close();
    }
  }

  @Test
  void shouldCountRefaultWhenDiscardedPageBecomesDirty() throws IOException {
    mem.discard(0, 512);
    mem.dirtyLog().markDirty(3);
    mem.dirtyLog().markDirty(600);
    List<Long> found = new ArrayList<>();
    assertEquals(2, mem.syncAllDirty(found::add));
    assertEquals(List.of(3L, 600L), found);
    assertEquals(1, mem.refaults());
    assertFalse(mem.isDiscarded(3));
    assertEquals(511, mem.discardedPages());
    assertEquals(0, mem.syncAllDirty(null), "sync must clear the log");
  }

  @Test
  void shouldSyncOnlyTheBitsOfTheRange() {
    for (long p : new long[] {62, 63, 64, 65, 130}) {
      mem.dirtyLog().markDirty(p);
    }
    List<Long> found = new ArrayList<>();
    assertEquals(2, mem.syncDirty(63, 2, found::add));
    assertEquals(List.of(63L, 64L), found);
    assertEquals(3, mem.syncAllDirty(null));
  }

  @Test
  void shouldFeedEveryDirtySink() {
    PageBitmap a = new PageBitmap(mem.pages());
    mem.addDirtySink(a::set);
    mem.dirtyLog().markDirty(9);
    mem.syncDirty(0, 64, null);
    assertTrue(a.test(9));
  }

  @Test
  void shouldRejectRangesOutsideMemory() {
    assertThrows(IllegalArgumentException.class, () -> mem.discard(2047, 2));
    assertThrows(IllegalArgumentException.class, () -> mem.syncDirty(-1, 1, null));
  }

  @Test
  void shouldDeleteFilesOnClose() throws IOException {
    Path ram = mem.ramPath();
    Path log = mem.dirtyLogPath();
    mem.close();
    assertFalse(Files.exists(ram));
    assertFalse(Files.exists(log));
    mem.close(); // idempotent
    assertThrows(IllegalStateException.class, () -> mem.discard(0, 1));
  }

  @Test
  void shouldBackRamWithMemfdThatGuestsCanMapByPath() throws IOException {
    try (GuestMemory m = GuestMemory.createMemfd(dir, "m", 4 * MIB, PAGE)) {
      assertTrue(m.isMemfd());
      assertTrue(m.ramPath().toString().startsWith("/proc/"), m.ramPath().toString());
      try (Arena a = Arena.ofConfined();
          FileChannel ch = FileChannel.open(m.ramPath(), StandardOpenOption.READ,
              StandardOpenOption.WRITE)) {
        var seg = ch.map(FileChannel.MapMode.READ_WRITE, 0, 4 * MIB, a);
        for (long p = 0; p < 1024; p++) {
          seg.set(ValueLayout.JAVA_LONG, p * PAGE, p + 1);
        }
      }
      assertEquals(4 * MIB, m.allocatedBytes());
      m.discard(0, 512);
      assertEquals(2 * MIB, m.allocatedBytes());
    }
    assertFalse(Files.exists(dir.resolve("m.dirty")));
  }

  @Test
  void shouldWritePoisonAndForgetDiscard() throws IOException {
    mem.discard(0, 1);
    mem.writePoison(0, 1, 0xaaaaaaaa);
    assertFalse(mem.isDiscarded(0));
    assertEquals(PAGE, mem.allocatedBytes());
  }
}
