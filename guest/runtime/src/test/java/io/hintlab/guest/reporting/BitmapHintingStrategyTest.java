package io.hintlab.guest.reporting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.MemMap;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.Zone;
import io.hintlab.guest.mm.ZoneSpec;
import io.hintlab.guest.mm.ZoneType;
import io.hintlab.guest.reporting.RecordingSink.Block;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code bitmap-hinting}: Nitesh Narayan Lal's per-zone bitmap design (v10, 2019). Bits set by
 * frees of MAX_ORDER-2 and above, blocks pulled out of the buddy 16 at a time, returned after the
 * host acknowledged. Virtual time; the invariant checker after every step; a {@link RecordingSink}
 * checks that every block in a batch is taken off the lists while the host holds it.
 */
class BitmapHintingStrategyTest {
  private static final int MOVABLE = Gfp.GFP_HIGHUSER_MOVABLE;
  private static final int[] GFPS = {
    Gfp.GFP_HIGHUSER_MOVABLE, Gfp.GFP_KERNEL, Gfp.GFP_KERNEL_RECLAIMABLE, Gfp.GFP_ATOMIC
  };

  private static final class Hinting {
    final PageAllocator a;
    final ReportingOptions o;
    final ManualWorkScheduler clock = new ManualWorkScheduler();
    final BitmapHintingStrategy strategy;
    final RecordingSink sink;
    final ReportingAgent agent;

    Hinting(MmConfig cfg, ReportingOptions o) {
      this.a = new PageAllocator(cfg);
      this.o = o;
      this.strategy = new BitmapHintingStrategy(a, o);
      this.sink = new RecordingSink(a, o.batchSize(), strategy.order());
      this.agent = new ReportingAgent(strategy, sink, o.delay(), clock);
    }

    ReportingMetrics.Snapshot pass() {
      ReportingMetrics.Snapshot before = agent.metrics().snapshot();
      clock.advance(o.delay());
      ReportingMetrics.Snapshot d = agent.metrics().snapshot().minus(before);
      assertEquals(1, d.passes(), "passes run in one delay");
      InvariantChecker.check(a);
      return d;
    }
  }

  /** One DMA32 zone of {@code blocks} order-10 blocks from pfn 4096, pcp off. */
  private static MmConfig dma32Only(int blocks) {
    return MmConfig.builder()
        .zone(new ZoneSpec(ZoneType.DMA32, 4096, blocks * 1024, 0))
        .pcp(false)
        .build();
  }

  private static void check(PageAllocator a, String where) {
    List<String> v = InvariantChecker.violations(a);
    if (!v.isEmpty()) {
      fail(where + ": " + String.join("; ", v));
    }
  }

  @Test
  void shouldDefaultToMaxOrderMinusTwo() {
    Hinting h = new Hinting(dma32Only(4), ReportingOptions.defaults());
    assertEquals(9, h.strategy.order(), "MAX_ORDER 11 on x86-64: order 9");
    assertEquals(16, h.strategy.batchSize());
  }

  @Test
  void shouldHintOnlyFreedBlocksInBatchesOfSixteenAndReturnThemAfterTheAck() {
    Hinting h = new Hinting(dma32Only(64), ReportingOptions.defaults());
    h.agent.start();
    ReportingMetrics.Snapshot d = h.pass();
    assertEquals(0, d.reportedBlocks(), "memory never freed since boot has no bit");
    List<Integer> held = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      held.add(h.a.allocPages(0, 9, MOVABLE));
    }
    check(h.a, "after allocating");
    long free = h.a.freePages();
    for (int pfn : held) {
      h.a.freePages(0, pfn, 9);
    }
    long freed = h.a.freePages();
    assertEquals(free + 40 * 512, freed);
    assertTrue(h.strategy.pendingBits(0) >= 20, "a bit per freed order-9/10 head");
    d = h.pass();
    // the 40 halves merged into 20 order-10 blocks: 16 + 4
    assertEquals(2, d.batches());
    assertEquals(List.of(16, 4), List.of(h.sink.batches().get(0).size(),
        h.sink.batches().get(1).size()));
    assertEquals(20, d.reportedBlocks());
    assertEquals(freed, h.a.freePages(), "every block came back");
    assertEquals(0, h.strategy.pendingBits(0));
    MemMap mm = h.a.memMap();
    for (Block b : h.sink.blocks()) {
      assertEquals(10, b.order());
      assertTrue(mm.isBuddy(b.pfn()) && mm.isReported(b.pfn()), b + " back, reported");
    }
    // a reported block is not hinted again until it is freed again
    h.agent.request();
    d = h.pass();
    assertEquals(0, d.reportedBlocks());
  }

  @ParameterizedTest(name = "runtime exception {0}")
  @ValueSource(booleans = {false, true})
  void shouldLoseNothingWhenTheHostFails(boolean runtime) {
    Hinting h = new Hinting(dma32Only(64), ReportingOptions.defaults().withBatchSize(4));
    h.agent.start();
    List<Integer> held = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      held.add(h.a.allocPages(0, 10, MOVABLE));
    }
    for (int pfn : held) {
      h.a.freePages(0, pfn, 10);
    }
    long free = h.a.freePages();
    h.sink.failCalls(0, 1, runtime);
    ReportingMetrics.Snapshot d = h.pass();
    assertEquals(1, d.failedBatches());
    assertEquals(0, d.reportedBlocks());
    assertEquals(free, h.a.freePages(), "the batch came back to the buddy");
    for (int pfn : held) {
      assertTrue(h.a.memMap().isBuddy(pfn), pfn + " free again");
      assertFalse(h.a.memMap().isReported(pfn), pfn + " not reported");
    }
    assertEquals(10, h.strategy.pendingBits(0), "the failed blocks keep their bits");
    h.sink.succeed();
    h.agent.request();
    d = h.pass();
    assertEquals(10, d.reportedBlocks());
    assertEquals(3, d.batches(), "4 + 4 + 2");
    assertEquals(free, h.a.freePages());
  }

  /**
   * Seeded interleavings of allocations, frees, failing reports, allocator calls made while a
   * batch is in flight, and passes; the invariants after every step, and every page back once all
   * is freed.
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
  void shouldKeepTheAllocatorConsistentUnderRandomInterleavings(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    boolean pcp = r.nextBoolean();
    int order = new int[] {3, 5, 9}[r.nextInt(3)];
    int batch = new int[] {1, 4, 16}[r.nextInt(3)];
    String where =
        "seed " + seed + " (pcp " + pcp + ", order " + order + ", batch " + batch + ")";
    Hinting h =
        new Hinting(
            MmConfig.builder().memory(32L << 20).pcp(pcp).build(),
            ReportingOptions.defaults().withOrder(order).withBatchSize(batch));
    long bootFree = h.a.freePages();
    List<int[]> held = new ArrayList<>();
    h.agent.start();
    for (int step = 0; step < 800; step++) {
      int p = r.nextInt(100);
      String op;
      if (p < 45) {
        op = "alloc";
        alloc(h.a, r, held);
      } else if (p < 80) {
        op = "free";
        freeOne(h.a, r, held);
      } else if (p < 92) {
        op = "pass";
        SplittableRandom ir = new SplittableRandom(r.nextLong());
        boolean interfere = r.nextBoolean();
        h.sink.during(
            interfere
                ? () -> {
                  if (ir.nextBoolean()) {
                    alloc(h.a, ir, held);
                  } else {
                    freeOne(h.a, ir, held);
                  }
                  check(h.a, where + " inside report()");
                }
                : null);
        h.agent.request();
        h.clock.advance(h.o.delay());
        h.sink.during(null);
      } else if (p < 96) {
        op = "fail the next report";
        h.sink.failCalls(h.sink.calls(), h.sink.calls() + 1, r.nextBoolean());
      } else {
        op = "drain";
        for (Zone z : h.a.zones()) {
          h.a.drainAllPages(z);
        }
      }
      check(h.a, where + " step " + step + " (" + op + ")");
    }
    while (!held.isEmpty()) {
      freeOne(h.a, r, held);
    }
    for (Zone z : h.a.zones()) {
      h.a.drainAllPages(z);
    }
    h.sink.succeed();
    h.agent.request();
    for (int i = 0; i < 10 && h.clock.pending() > 0; i++) {
      h.clock.advance(h.o.delay());
    }
    check(h.a, where + " at the end");
    assertEquals(bootFree, h.a.freePages(), where + ": free pages after everything is freed");
    assertEquals(0, h.agent.metrics().passErrors(), where);
  }

  private static void alloc(PageAllocator a, SplittableRandom r, List<int[]> held) {
    int p = r.nextInt(100);
    int ord = p < 40 ? r.nextInt(3) : p < 80 ? 3 + r.nextInt(6) : 9 + r.nextInt(2);
    int pfn = a.allocPages(0, ord, GFPS[r.nextInt(GFPS.length)]);
    if (pfn >= 0) {
      held.add(new int[] {pfn, ord});
    }
  }

  private static void freeOne(PageAllocator a, SplittableRandom r, List<int[]> held) {
    if (held.isEmpty()) {
      return;
    }
    int i = r.nextInt(held.size());
    int[] b = held.get(i);
    held.set(i, held.get(held.size() - 1));
    held.remove(held.size() - 1);
    a.freePages(0, b[0], b[1]);
  }
}
