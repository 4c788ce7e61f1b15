package io.hintlab.guest.reporting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.Zone;
import io.hintlab.guest.reporting.RecordingSink.Block;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Seeded random interleavings of allocations, frees, pcp drains, failing reports, allocator calls
 * made while a batch is in flight, and passes, with the allocator's invariant checker after every
 * step. The seed picks the configuration too and is in every failure message.
 *
 * <p>Checked besides the invariants (and the per-batch checks of {@link RecordingSink}):
 *
 * <ul>
 *   <li>a block marked reported when a pass starts is never in that pass's batches;
 *   <li>a pass with no failed report, no spent budget, no watermark refusal and nothing done while
 *       its batches were in flight leaves every eligible block marked reported;
 *   <li>when everything is freed again, the free page count is back to its boot value.
 * </ul>
 */
class PageReportingRandomTest {
  private static final int STEPS = 1200;
  private static final int[] GFPS = {
    Gfp.GFP_HIGHUSER_MOVABLE, Gfp.GFP_KERNEL, Gfp.GFP_KERNEL_RECLAIMABLE, Gfp.GFP_ATOMIC
  };

  private static int randomOrder(RandomGenerator r) {
    int p = r.nextInt(100);
    if (p < 35) {
      return 0;
    } else if (p < 65) {
      return 1 + r.nextInt(3);
    } else if (p < 85) {
      return 4 + r.nextInt(5);
    }
    return 9 + r.nextInt(2);
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
  void shouldKeepTheAllocatorConsistentUnderRandomInterleavings(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    boolean pcp = r.nextBoolean();
    int order = new int[] {3, 5, 9}[r.nextInt(3)];
    int capacity = new int[] {2, 4, 8}[r.nextInt(3)];
    int divisor = new int[] {0, 1, 16}[r.nextInt(3)];
    String where =
        "seed "
            + seed
            + " (pcp "
            + pcp
            + ", order "
            + order
            + ", capacity "
            + capacity
            + ", divisor "
            + divisor
            + ")";
    ReportingOptions o =
        ReportingOptions.defaults()
            .withOrder(order)
            .withCapacity(capacity)
            .withBudgetDivisor(divisor);
    ReportingFixture f =
        ReportingFixture.boot(MmConfig.builder().memory(64L << 20).pcp(pcp).build(), o);
    PageAllocator a = f.allocator;
    long bootFree = a.freePages();
    List<int[]> held = new ArrayList<>();
    f.start();

    for (int step = 0; step < STEPS; step++) {
      int p = r.nextInt(100);
      String op;
      if (p < 40) {
        int ord = randomOrder(r);
        int pfn = a.allocPages(0, ord, GFPS[r.nextInt(GFPS.length)]);
        if (pfn >= 0) {
          held.add(new int[] {pfn, ord});
        }
        op = "alloc order " + ord;
      } else if (p < 75) {
        op = freeOne(a, held, r);
      } else if (p < 87) {
        op = "pass";
        pass(f, r, held, where + " step " + step);
      } else if (p < 91) {
        op = "drain";
        for (Zone z : a.zones()) {
          a.drainAllPages(z);
        }
      } else if (p < 94) {
        int from = f.sink.calls();
        f.sink.failCalls(from, from + 1 + r.nextInt(2), r.nextBoolean());
        op = "fail the next reports";
      } else {
        op = "request";
        f.agent.request();
      }
      check(a, where + " step " + step + " (" + op + ")");
    }

    // give everything back: the free page count returns to its boot value
    while (!held.isEmpty()) {
      freeOne(a, held, r);
    }
    for (Zone z : a.zones()) {
      a.drainAllPages(z);
    }
    f.sink.succeed();
    f.sink.during(null);
    f.agent.request();
    for (int i = 0; i < 200 && f.clock.pending() > 0; i++) {
      f.clock.advance(o.delay());
    }
    check(a, where + " at the end");
    assertEquals(ReportingAgent.State.IDLE, f.agent.state(), where);
    assertEquals(bootFree, a.freePages(), where + ": free pages after everything is freed");
    assertEquals(0, f.agent.metrics().passErrors(), where);
  }

  private static String freeOne(PageAllocator a, List<int[]> held, RandomGenerator r) {
    if (held.isEmpty()) {
      return "free (none held)";
    }
    int i = r.nextInt(held.size());
    int[] b = held.get(i);
    held.set(i, held.get(held.size() - 1));
    held.remove(held.size() - 1);
    a.freePages(0, b[0], b[1]);
    return "free order " + b[1];
  }

  /**
   * Lets one delay pass; sometimes with an allocator call made from inside the first report call
   * (the zone lock is dropped there, so it must work and leave the batch alone).
   */
  private static void pass(ReportingFixture f, RandomGenerator r, List<int[]> held, String where) {
    PageAllocator a = f.allocator;
    boolean interfere = r.nextInt(4) == 0;
    long interferenceSeed = r.nextLong();
    boolean[] interfered = new boolean[1];
    if (interfere) {
      SplittableRandom ir = new SplittableRandom(interferenceSeed);
      f.sink.during(
          () -> {
            if (interfered[0]) {
              return;
            }
            interfered[0] = true;
            check(a, where + " inside report()");
            if (ir.nextBoolean() || held.isEmpty()) {
              int ord = randomOrder(ir);
              int pfn = a.allocPages(0, ord, GFPS[ir.nextInt(GFPS.length)]);
              if (pfn >= 0) {
                held.add(new int[] {pfn, ord});
              }
            } else {
              freeOne(a, held, ir);
            }
          });
    }
    Set<Block> reportedAtStart = f.reportedBlocks();
    List<Block> eligible = new ArrayList<>();
    for (Zone z : a.zones()) {
      if (f.aboveGate(z)) {
        eligible.addAll(f.freeBlocks(z, f.strategy.order()));
      }
    }
    int attemptsBefore = f.sink.attempts().size();
    ReportingMetrics.Snapshot before = f.agent.metrics().snapshot();
    f.clock.advance(f.options.delay());
    ReportingMetrics.Snapshot d = f.agent.metrics().snapshot().minus(before);
    f.sink.during(null);
    if (d.passes() == 0) {
      return;
    }
    assertEquals(1, d.passes(), where);
    List<List<Block>> attempts = f.sink.attempts();
    Set<Block> sent = new HashSet<>();
    for (List<Block> batch : attempts.subList(attemptsBefore, attempts.size())) {
      for (Block b : batch) {
        assertTrue(sent.add(b), where + ": " + b + " twice in one pass");
        if (!interfered[0]) {
          assertFalse(reportedAtStart.contains(b), where + ": " + b + " was already reported");
        }
      }
    }
    boolean complete =
        !interfered[0]
            && d.failedBatches() == 0
            && d.budgetExhaustions() == 0
            && d.watermarkRefusals() == 0;
    if (complete) {
      Set<Block> now = f.reportedBlocks();
      for (Block b : eligible) {
        assertTrue(now.contains(b), where + ": eligible " + b + " left unreported");
      }
    }
  }

  private static void check(PageAllocator a, String where) {
    List<String> v = InvariantChecker.violations(a);
    if (!v.isEmpty()) {
      fail(where + ": " + String.join("; ", v));
    }
  }
}
