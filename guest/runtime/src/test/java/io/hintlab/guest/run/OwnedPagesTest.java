package io.hintlab.guest.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.ram.GuestRam;
import io.hintlab.guest.workload.LiveBlocks;
import io.hintlab.guest.workload.Workload;
import io.hintlab.guest.workload.WorkloadConfig;
import io.hintlab.guest.workload.Workloads;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The Paused answer's owned bitmap ({@link RamPages#ownedBitmap()}) against the blocks a seeded
 * workload holds when it is stopped after a seeded number of steps (as a pause stops it at its
 * step hook): exactly the pages of its live blocks, wherever compaction moved them, and nothing
 * once it freed everything. init_on_alloc is on, as in a run.
 */
class OwnedPagesTest {
  private static final int PAGE = 4096;
  private static final long MEMORY = 64L << 20;

  @TempDir Path dir;

  /** Thrown by the step hook: the vCPU stops here. */
  private static final class Stopped extends RuntimeException {
    Stopped() {
      super("stopped", null, false, false);
    }
  }

  private GuestRam ram() throws IOException {
    Path ram = dir.resolve("guest.ram");
    Path log = dir.resolve("guest.dirty");
    try (var f = new RandomAccessFile(ram.toFile(), "rw")) {
      f.setLength(MEMORY);
    }
    try (var f = new RandomAccessFile(log.toFile(), "rw")) {
      f.setLength(GuestRam.dirtyLogBytes(MEMORY / PAGE));
    }
    return GuestRam.map(ram, log, MEMORY, PAGE, GuestRam.Options.DEFAULTS);
  }

  private static BitSet bits(byte[] bitmap) {
    return BitSet.valueOf(bitmap);
  }

  private static BitSet livePages(LiveBlocks live) {
    BitSet out = new BitSet();
    for (int i = 0; i < live.size(); i++) {
      out.set(live.pfn(i), live.pfn(i) + (1 << live.order(i)));
    }
    return out;
  }

  @ParameterizedTest(name = "{0} seed {1}")
  @CsvSource({
    "churn, 1", "churn, 2", "churn, 3",
    "fragment, 4", "fragment, 5",
    "mixed, 6", "mixed, 7",
    "memhog, 8",
    "thp, 9", "thp, 10",
  })
  void theOwnedBitmapIsExactlyThePagesOfTheLiveBlocks(String name, long seed) throws IOException {
    SplittableRandom r = new SplittableRandom(seed);
    try (GuestRam ram = ram()) {
      PageAllocator pa = new PageAllocator(MmConfig.builder().memory(MEMORY).nrCpus(2).build());
      RamPages pages = RamPages.of(ram);
      pa.setPageCopier(pages);
      pa.setPageInitializer((pfn, order) -> ram.zeroPages(pfn, 1L << order));
      Workload w = Workloads.create(name, pa, seed, WorkloadConfig.DEFAULT.withWriter(pages));
      long stopAt = 200 + r.nextInt(4000);
      long[] steps = {0};
      w.setStepHook(() -> {
        if (++steps[0] == stopAt) {
          throw new Stopped();
        }
      });
      boolean stopped = false;
      try {
        w.run(0);
      } catch (Stopped e) {
        stopped = true;
      }
      w.setStepHook(null);
      String at = name + " seed " + seed + " stopped after " + steps[0] + " steps";
      BitSet owned = bits(pages.ownedBitmap());
      assertEquals(GuestRam.dirtyLogBytes(ram.pages()), pages.ownedBitmap().length, at);
      assertEquals(livePages(w.live()), owned, at);
      assertTrue(!stopped || owned.cardinality() > 0, at + ": a stopped workload holds pages");
      assertEquals(owned.cardinality(), pages.heldPages(), at);
      w.releaseAll();
      assertTrue(bits(pages.ownedBitmap()).isEmpty(), at + ": nothing owned once all is freed");
      assertEquals(0, ram.lostWrites() + ram.corruptPages(), at);
    }
  }
}
