package io.hintlab.host.migration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hintlab.host.memory.GuestMemory;
import io.hintlab.host.memory.StateDirs;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class DirtyTrackerTest {

  @Test
  void seesPagesThatAnotherSyncFetchedAndCleared() throws Exception {
    Path dir = StateDirs.createHostDir(StateDirs.defaultBase());
    try (GuestMemory mem = GuestMemory.create(dir, "g", 1L << 20, 4096)) {
      DirtyTracker t = new DirtyTracker(256);
      mem.addDirtySink(t);
      mem.dirtyLog().markDirty(3);
      mem.dirtyLog().markDirty(200);
      assertEquals(1, mem.syncDirty(0, 64, null), "the device's own sync of a range");
      assertEquals(1, mem.syncAllDirty(null), "the migration's sync finds the rest");
      long[] words = new long[4];
      t.drainInto(words);
      assertArrayEquals(new long[] {1L << 3, 0, 0, 1L << (200 - 192)}, words);
      t.drainInto(words);
      assertArrayEquals(new long[4], words, "drained pages are forgotten");
    } finally {
      StateDirs.deleteTree(dir);
    }
  }
}
