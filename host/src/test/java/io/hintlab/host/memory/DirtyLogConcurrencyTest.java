package io.hintlab.host.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A guest thread setting bits while the host syncs: no write is lost between read and clear. */
class DirtyLogConcurrencyTest {
  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3})
  void shouldNeverLoseDirtyBitsWhileSyncing(long seed) throws Exception {
    Path dir = StateDirs.createHostDir(StateDirs.defaultBase());
    try (GuestMemory mem = GuestMemory.create(dir, "c", 4L << 20, 4096)) {
      BitSet written = new BitSet();
      PageBitmap seen = new PageBitmap(mem.pages());
      CountDownLatch done = new CountDownLatch(1);
      AtomicBoolean failed = new AtomicBoolean();
      Thread guest = Thread.ofPlatform().name("test-guest-writer").start(() -> {
        try {
          SplittableRandom r = new SplittableRandom(seed);
          for (int i = 0; i < 200_000; i++) {
            int pfn = r.nextInt((int) mem.pages());
            written.set(pfn);
            mem.dirtyLog().markDirty(pfn);
          }
        } catch (RuntimeException e) {
          failed.set(true);
        } finally {
          done.countDown();
        }
      });
      int syncs = 0;
      while (done.getCount() > 0 && syncs < 100_000) {
        if (syncs % 2 == 0) {
          mem.syncAllDirty(seen::set);
        } else {
          mem.syncDirty(100, 700, seen::set);
        }
        syncs++;
      }
      assertTrue(done.await(10, TimeUnit.SECONDS), "seed " + seed);
      guest.join(TimeUnit.SECONDS.toMillis(5));
      mem.syncAllDirty(seen::set);
      assertTrue(!failed.get(), "seed " + seed);
      assertEquals(written.cardinality(), seen.cardinality(), "seed " + seed);
      for (int p = written.nextSetBit(0); p >= 0; p = written.nextSetBit(p + 1)) {
        assertTrue(seen.test(p), "seed " + seed + ": lost dirty bit of pfn " + p);
      }
    } finally {
      StateDirs.deleteTree(dir);
    }
  }
}
