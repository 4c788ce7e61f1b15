package io.hintlab.guest.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.BalloonDevInfo;
import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The balloon workload follows the balloon: a stand-in driver inflates and deflates a {@link
 * BalloonDevInfo} on the same allocator between the workload's steps, as the real driver does on
 * its own thread.
 */
class BalloonWorkloadTest {
  private static final long MEMORY = 64L << 20;

  /** Moves the balloon one page toward the target per step, like fill/leak_balloon in slices. */
  private static final class Driver implements Runnable {
    final PageAllocator pa;
    final BalloonDevInfo balloon;
    long target;

    Driver(PageAllocator pa) {
      this.pa = pa;
      this.balloon = new BalloonDevInfo(pa, (n, o) -> 0);
    }

    @Override
    public void run() {
      for (int i = 0; i < 4; i++) {
        if (balloon.size() < target) {
          balloon.inflateOne(1);
        } else if (balloon.size() > target) {
          balloon.release(1, balloon.dequeueOne(1));
        }
      }
    }
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {1, 7, 1234567})
  void shouldShrinkAsTheBalloonInflatesAndGrowAsItDeflates(long seed) {
    PageAllocator pa = new PageAllocator(MmConfig.builder().memory(MEMORY).nrCpus(2).build());
    long bootFree = pa.freePages();
    RecordingWriter writer = new RecordingWriter(pa, "seed " + seed);
    Workload w = Workloads.create("balloon", pa, seed,
        WorkloadConfig.DEFAULT.withWriter(writer));
    Driver d = new Driver(pa);
    w.setStepHook(d);
    w.run(40_000);
    long before = w.live().pages();
    assertTrue(before > bootFree / 2, "seed " + seed + ": grew to " + before + " pages");

    d.target = bootFree / 2; // the host asks for half the memory
    WorkloadResult inflating = w.run(60_000);
    long during = w.live().pages();
    assertTrue(d.balloon.size() > bootFree / 3, "seed " + seed + ": balloon " + d.balloon.size());
    assertTrue(during < before - bootFree / 4,
        "seed " + seed + ": working set " + before + " -> " + during + " pages");
    assertTrue(inflating.counters().get("shrink_steps") > 0, "seed " + seed);

    d.target = 0; // and gives it back
    w.run(60_000);
    assertEquals(0, d.balloon.size(), "seed " + seed);
    assertTrue(w.live().pages() > before * 9 / 10,
        "seed " + seed + ": regrew to " + w.live().pages() + " of " + before + " pages");

    w.setStepHook(null);
    w.releaseAll();
    assertEquals(writer.pagesWritten, writer.pagesVerified, "seed " + seed + ": every page verified");
    InvariantChecker.check(pa);
    pa.drainAllPages(null);
    assertEquals(bootFree, pa.freePages(), "seed " + seed + ": every page came back");
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {1, 7})
  void shouldHoldASteadyWorkingSetWithinItsCapWithoutABalloon(long seed) {
    PageAllocator pa = new PageAllocator(MmConfig.builder().memory(MEMORY).nrCpus(2).build());
    Workload w = Workloads.create("balloon", pa, seed,
        WorkloadConfig.DEFAULT.withArgs(Map.of("bytes", 16L << 20, "headroom", 4L << 20)));
    long[] max = {0};
    w.setStepHook(() -> max[0] = Math.max(max[0], w.live().pages()));
    WorkloadResult r = w.run(30_000);
    // An allocation may start below the cap and end above it by at most an order-3 block.
    assertTrue(max[0] <= 4096 + 8, "seed " + seed + ": held " + max[0] + " pages");
    assertTrue(max[0] > 3500, "seed " + seed + ": fills up to the cap, held " + max[0]);
    assertTrue(r.counters().get("churn_steps") > 10_000, "seed " + seed + ": " + r.summary());
    InvariantChecker.check(pa);
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {3})
  void shouldRejectAHeadroomLargerThanTheMemory(long seed) {
    PageAllocator pa = new PageAllocator(MmConfig.builder().memory(MEMORY).nrCpus(2).build());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Workloads.create("balloon", pa, seed,
            WorkloadConfig.DEFAULT.withArgs(Map.of("headroom", 1L << 30))));
    assertTrue(e.getMessage().startsWith("headroom must be at most the guest's memory"),
        e.getMessage());
  }
}
