package io.hintlab.guest.reporting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.MemMap;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.PageIsolation;
import io.hintlab.guest.mm.Zone;
import io.hintlab.guest.mm.ZoneSpec;
import io.hintlab.guest.mm.ZoneType;
import io.hintlab.guest.reporting.RecordingSink.Block;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code isolate-report}: David Hildenbrand's isolation-based reporting (lkml, 2019-11-12).
 * Candidate chunks in a per-zone bitmap, a lockless free check, start_isolate_page_range(),
 * test_pages_isolated(), report, undo. Virtual time; the invariant checker after every step; no
 * pageblock left isolated by a pass; a {@link RecordingSink} checks that every block in a batch is
 * taken off the lists while the host holds it.
 */
class IsolateReportStrategyTest {
  private static final int MOVABLE = Gfp.GFP_HIGHUSER_MOVABLE;
  private static final int[] GFPS = {
    Gfp.GFP_HIGHUSER_MOVABLE, Gfp.GFP_KERNEL, Gfp.GFP_KERNEL_RECLAIMABLE, Gfp.GFP_ATOMIC
  };

  private static final class Iso {
    final PageAllocator a;
    final ReportingOptions o;
    final ManualWorkScheduler clock = new ManualWorkScheduler();
    final IsolateReportStrategy strategy;
    final RecordingSink sink;
    final ReportingAgent agent;

    Iso(MmConfig cfg, ReportingOptions o) {
      this.a = new PageAllocator(cfg);
      this.o = o;
      this.strategy = new IsolateReportStrategy(a, o);
      // after isolation a chunk's free memory is pageblock-sized buddies
      this.sink = new RecordingSink(a, o.capacity(), a.geometry().pageblockOrder());
      this.agent = new ReportingAgent(strategy, sink, o.delay(), clock);
    }

    ReportingMetrics.Snapshot pass() {
      ReportingMetrics.Snapshot before = agent.metrics().snapshot();
      clock.advance(o.delay());
      ReportingMetrics.Snapshot d = agent.metrics().snapshot().minus(before);
      assertEquals(1, d.passes(), "passes run in one delay");
      check(a, "after a pass", 0);
      return d;
    }

    ReportingMetrics.Snapshot requestAndPass() {
      agent.request();
      return pass();
    }
  }

  /** One DMA32 zone of {@code blocks} order-10 blocks from pfn 4096, two cpus, pcp as given. */
  private static MmConfig dma32(int blocks, boolean pcp) {
    return MmConfig.builder()
        .zone(new ZoneSpec(ZoneType.DMA32, 4096, blocks * 1024, 0))
        .nrCpus(2)
        .pcp(pcp)
        .build();
  }

  /** The invariants, and exactly {@code expectedIsolated} isolated pageblocks (zone counters). */
  private static void check(PageAllocator a, String where, long expectedIsolated) {
    List<String> v = InvariantChecker.violations(a);
    if (!v.isEmpty()) {
      fail(where + ": " + String.join("; ", v));
    }
    long isolated = 0;
    for (Zone z : a.zones()) {
      isolated += z.isolatedPageblocks();
    }
    assertEquals(expectedIsolated, isolated, where + ": isolated pageblocks");
  }

  // ---------------------------------------------------------------- options

  @Test
  void shouldDefaultToThePageblockOrderAndTheLastCpu() {
    Iso h = new Iso(dma32(4, false), ReportingOptions.defaults());
    assertEquals(9, h.strategy.order());
    assertEquals(32, h.strategy.capacity());
    assertEquals(1, h.strategy.isolationCpu(), "the last of two cpus");
    assertEquals("isolate-report", h.strategy.name());
  }

  @Test
  void shouldRejectOptionsThatDoNotFitTheAllocatorWithExactMessages() {
    PageAllocator a = new PageAllocator(dma32(4, false));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new IsolateReportStrategy(a, ReportingOptions.defaults().withOrder(8)));
    assertEquals(
        "order must be in [9, 10] (isolation works on whole pageblocks), got 8", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new IsolateReportStrategy(a, ReportingOptions.defaults().withOrder(11)));
    assertEquals(
        "order must be in [9, 10] (isolation works on whole pageblocks), got 11", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new IsolateReportStrategy(a, ReportingOptions.defaults().withIsolationCpu(2)));
    assertEquals("isolationCpu must be in [0, 2), got 2", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new IsolateReportStrategy(
                    a, ReportingOptions.defaults().withOrder(10).withCapacity(1)));
    assertEquals(
        "capacity must be >= 2 for order 10 (a chunk's pageblocks go to the host in one batch),"
            + " got 1",
        e.getMessage());
  }

  // ---------------------------------------------------------------- reporting

  @Test
  void shouldReportEveryFullyFreePageblockOnceInBatchesOfAtMostCapacity() {
    Iso h = new Iso(dma32(64, false), ReportingOptions.defaults().withCapacity(8));
    h.agent.start();
    ReportingMetrics.Snapshot d = h.pass();
    assertEquals(0, d.reportedBlocks(), "memory never freed since boot has no bit");
    List<Integer> held = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      held.add(h.a.allocPages(0, 9, MOVABLE));
    }
    long free = h.a.freePages();
    for (int pfn : held) {
      h.a.freePages(0, pfn, 9);
    }
    long freed = h.a.freePages();
    assertEquals(free + 40 * 512, freed);
    assertEquals(40, h.strategy.pendingBits(0), "a bit per freed pageblock");
    d = h.pass();
    assertEquals(40, d.reportedBlocks());
    assertEquals(5, d.batches(), "40 pageblocks, 8 per call");
    assertEquals(0, d.isolationConflicts());
    assertEquals(0, d.isolationTestFailures());
    Set<Block> sent = new HashSet<>();
    for (List<Block> batch : h.sink.batches()) {
      assertTrue(batch.size() <= 8, "batch of " + batch.size());
      for (Block b : batch) {
        assertEquals(9, b.order(), b + ": one pageblock");
        assertTrue(sent.add(b), b + " reported twice");
      }
    }
    Set<Block> expected = new HashSet<>();
    held.forEach(pfn -> expected.add(new Block(pfn, 9)));
    assertEquals(expected, sent, "exactly the freed pageblocks");
    assertEquals(freed, h.a.freePages(), "every block came back");
    assertEquals(0, h.strategy.pendingBits(0));
    // un-isolation let the blocks merge again; nothing is reported twice
    d = h.requestAndPass();
    assertEquals(0, d.reportedBlocks());
  }

  @Test
  void shouldReportAMaxOrderChunkAsItsPageblocksInOneBatch() {
    Iso h = new Iso(dma32(16, false), ReportingOptions.defaults().withOrder(10).withCapacity(2));
    h.agent.start();
    List<Integer> held = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      held.add(h.a.allocPages(0, 10, MOVABLE));
    }
    long free = h.a.freePages();
    for (int pfn : held) {
      h.a.freePages(0, pfn, 10);
    }
    ReportingMetrics.Snapshot d = h.pass();
    assertEquals(10, d.reportedBlocks(), "isolation splits each chunk into its two pageblocks");
    assertEquals(5, d.batches());
    for (List<Block> batch : h.sink.batches()) {
      assertEquals(List.of(9, 9), batch.stream().map(Block::order).toList());
      assertEquals(batch.get(0).pfn() + 512, batch.get(1).pfn(), "one chunk per batch");
    }
    assertEquals(free + 5 * 1024, h.a.freePages());
    for (int pfn : held) {
      assertTrue(h.a.memMap().isBuddy(pfn), pfn + " merged back to one free block");
      assertEquals(10, h.a.memMap().order(pfn));
    }
  }

  // ---------------------------------------------------------------- conflicts

  @Test
  void shouldCountEbusyWhenAnotherIsolationUserHoldsThePageblockAndRetryLater() {
    Iso h = new Iso(dma32(16, false), ReportingOptions.defaults());
    h.agent.start();
    List<Integer> held = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      held.add(h.a.allocPages(0, 9, MOVABLE));
    }
    for (int pfn : held) {
      h.a.freePages(0, pfn, 9);
    }
    int busy = held.get(0);
    PageIsolation other = new PageIsolation(h.a); // alloc_contig_range(), offlining
    assertEquals(0, other.startIsolatePageRange(0, busy, busy + 512, PageIsolation.Mode.OTHER));
    ReportingMetrics.Snapshot before = h.agent.metrics().snapshot();
    h.clock.advance(h.o.delay());
    ReportingMetrics.Snapshot d = h.agent.metrics().snapshot().minus(before);
    check(h.a, "with another user's isolation", 1);
    assertEquals(1, d.isolationConflicts(), "somebody else just isolated them, try again");
    assertEquals(3, d.reportedBlocks());
    assertFalse(h.sink.blocks().contains(new Block(busy, 9)));
    assertTrue(h.a.memMap().isPageblockIsolated(busy), "the other user's isolation kept");
    assertEquals(1, h.strategy.pendingBits(0), "the bit is kept for a later pass");
    other.undoIsolatePageRange(busy, busy + 512);
    check(h.a, "after the other user's undo", 0);
    h.sink.clear();
    d = h.requestAndPass();
    assertEquals(0, d.isolationConflicts());
    assertTrue(h.sink.blocks().contains(new Block(busy, 9)), "reported on the retry");
    assertEquals(0, h.strategy.pendingBits(0));
  }

  /**
   * Hildenbrand's "Busy? Rare race (with ... an allocation)": an unmovable allocation lands in
   * the pageblock between the lockless check and the isolation. The test holds the zone lock, so
   * the pass (on its own thread) passes the check and waits in set_migratetype_isolate(); the test
   * then allocates from the only free pageblock and lets it go.
   */
  @Test
  void shouldCountEbusyWhenAnUnmovablePageWinsTheRaceWithTheIsolation() throws Exception {
    Iso h =
        new Iso(
            MmConfig.builder()
                .zone(new ZoneSpec(ZoneType.DMA32, 4096, 16 * 1024, 0))
                .nrCpus(2)
                .pcp(false)
                .minFreeKbytes(64)
                .build(),
            ReportingOptions.defaults());
    List<int[]> held = new ArrayList<>();
    for (int o = 10; o >= 0; o--) {
      for (int pfn = h.a.allocPages(0, o, MOVABLE); pfn >= 0; pfn = h.a.allocPages(0, o, MOVABLE)) {
        held.add(new int[] {pfn, o});
      }
    }
    h.agent.start();
    int victim = -1;
    for (int[] b : held) {
      if (b[1] == 9) {
        victim = b[0];
      }
    }
    if (victim < 0) {
      int[] b = held.stream().filter(x -> x[1] == 10).findFirst().orElseThrow();
      victim = b[0];
      h.a.freePages(0, b[0], 10);
      assertEquals(victim, h.a.allocPages(0, 9, MOVABLE), "half of the freed order-10 block");
      h.a.freePages(0, victim, 9);
    } else {
      h.a.freePages(0, victim, 9);
    }
    assertTrue(h.strategy.pendingBits(0) >= 1);
    Zone z = h.a.zones().get(0);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread reporter =
        new Thread(
            () -> {
              try {
                h.clock.advance(h.o.delay());
              } catch (Throwable t) {
                failure.set(t);
              }
            },
            "isolate-report-test");
    int unmovable;
    z.lock.lock();
    try {
      reporter.start();
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (!z.lock.hasQueuedThread(reporter)) {
        assertTrue(System.nanoTime() < deadline, "the pass never reached the isolation");
        assertTrue(reporter.isAlive(), "the pass ended without taking the zone lock");
        Thread.onSpinWait();
      }
      unmovable = h.a.allocPages(0, 0, Gfp.GFP_KERNEL); // reentrant: the test holds the lock
    } finally {
      z.lock.unlock();
    }
    reporter.join(10_000);
    assertFalse(reporter.isAlive());
    if (failure.get() != null) {
      throw new AssertionError("the pass failed", failure.get());
    }
    assertTrue(
        unmovable >= victim && unmovable < victim + 512,
        "the unmovable page " + unmovable + " came from the free pageblock " + victim);
    check(h.a, "after the race", 0);
    assertEquals(1, h.agent.metrics().isolationConflicts());
    assertEquals(0, h.agent.metrics().reportedBlocks());
    assertEquals(1, h.strategy.pendingBits(0), "the bit is kept for a later pass");
  }

  @Test
  void shouldUndoWhenPcpPagesFailTheTestAndReportOnceTheyAreDrained() {
    Iso h = new Iso(dma32(16, true), ReportingOptions.defaults());
    h.agent.start();
    int p = h.a.allocPages(1, 9, MOVABLE);
    h.a.freePages(1, p, 9);
    Zone z = h.a.zones().get(0);
    h.a.drainPagesZone(1, z); // to the buddy: merges to order 10, the hook sets both bits
    assertEquals(2, h.strategy.pendingBits(0));
    int x = h.a.allocPages(0, 0, MOVABLE); // the pcp refill splits the block at the list head
    h.a.freePages(0, x, 0);
    int chunk = x & -512;
    MemMap mm = h.a.memMap();
    boolean onPcp = false;
    for (int pfn = chunk; pfn < chunk + 512; pfn++) {
      onPcp |= mm.kind(pfn) == MemMap.K_PCP;
    }
    assertTrue(onPcp && (chunk == p || chunk == p + 512), "setup: pcp pages in a candidate");
    ReportingMetrics.Snapshot d = h.pass();
    assertEquals(1, d.isolationTestFailures(), "pcp pages are not PageBuddy");
    assertEquals(1, d.reportedBlocks(), "the other pageblock");
    assertFalse(h.sink.blocks().stream().anyMatch(b -> b.pfn() == chunk));
    assertEquals(1, h.strategy.pendingBits(0), "the bit is kept");
    h.a.drainAllPages(z);
    h.sink.clear();
    d = h.requestAndPass();
    assertEquals(0, d.isolationTestFailures());
    assertTrue(h.sink.blocks().stream().anyMatch(b -> b.pfn() == chunk), "reported once drained");
  }

  @Test
  void shouldUndoWhenPageReportingHoldsTheBlockAndReportItAfterItCameBack() {
    Iso h = new Iso(dma32(16, false), ReportingOptions.defaults());
    h.agent.start();
    int p = h.a.allocPages(0, 9, MOVABLE);
    int q = h.a.allocPages(0, 9, MOVABLE);
    assertEquals(p ^ 512, q);
    h.a.freePages(0, p, 9);
    Zone z = h.a.zones().get(0);
    z.lock.lock();
    try {
      assertEquals(512, z.isolateFreePage(p, 9), "page-reporting's batch in flight");
    } finally {
      z.lock.unlock();
    }
    ReportingMetrics.Snapshot d = h.pass();
    assertEquals(1, d.isolationTestFailures(), "a taken block is not PageBuddy");
    assertEquals(0, d.reportedBlocks());
    assertEquals(1, h.strategy.pendingBits(0));
    assertEquals(MemMap.K_TAKEN, h.a.memMap().kind(p), "the other reporter's block untouched");
    z.lock.lock();
    try {
      z.putbackIsolatedPage(p, 9, h.a.memMap().getPfnblockMigratetype(p)); // no notification
    } finally {
      z.lock.unlock();
    }
    d = h.requestAndPass();
    assertEquals(List.of(new Block(p, 9)), h.sink.blocks(), "the kept bit finds it");
  }

  @ParameterizedTest(name = "runtime exception {0}")
  @ValueSource(booleans = {false, true})
  void shouldPutEverythingBackUnreportedAndUndoTheIsolationWhenTheHostFails(boolean runtime) {
    Iso h = new Iso(dma32(32, false), ReportingOptions.defaults().withCapacity(4));
    h.agent.start();
    List<Integer> held = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      held.add(h.a.allocPages(0, 9, MOVABLE));
    }
    for (int pfn : held) {
      h.a.freePages(0, pfn, 9);
    }
    long free = h.a.freePages();
    h.sink.failCalls(0, 1, runtime);
    ReportingMetrics.Snapshot d = h.pass(); // checks: invariants, no pageblock isolated
    assertEquals(1, d.failedBatches());
    assertEquals(1, d.batches() + d.failedBatches(), "the failure ends the pass");
    assertEquals(0, d.reportedBlocks());
    assertEquals(free, h.a.freePages(), "the batch came back to the buddy");
    MemMap mm = h.a.memMap();
    for (int pfn : held) {
      boolean inFree = false;
      for (int o = 9; o <= 10; o++) {
        int head = pfn & -(1 << o);
        inFree |= mm.isBuddy(head) && mm.order(head) >= o;
      }
      assertTrue(inFree, pfn + " free again");
      assertFalse(mm.isPageblockIsolated(pfn), pfn + " not isolated");
    }
    assertTrue(h.sink.attempts().get(0).stream().noneMatch(b -> mm.isReported(b.pfn())));
    assertEquals(10, h.strategy.pendingBits(0), "the failed blocks keep their bits");
    h.sink.succeed();
    d = h.requestAndPass();
    assertEquals(10, d.reportedBlocks());
    assertEquals(3, d.batches(), "4 + 4 + 2");
    assertEquals(free, h.a.freePages());
  }

  // ---------------------------------------------------------------- random interleavings

  /**
   * Seeded interleavings of allocations, frees, drains, failing reports, allocator calls made
   * while a batch is in flight, another isolation user taking and releasing pageblocks, and
   * passes; the invariants and the isolated pageblock count (only the other user's) after every
   * step, and every page back once all is freed.
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
  void shouldKeepTheAllocatorConsistentUnderRandomInterleavings(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    boolean pcp = r.nextBoolean();
    int order = 9 + r.nextInt(2);
    int capacity = new int[] {2, 4, 8}[r.nextInt(3)];
    String where =
        "seed " + seed + " (pcp " + pcp + ", order " + order + ", capacity " + capacity + ")";
    Iso h =
        new Iso(
            MmConfig.builder().memory(32L << 20).nrCpus(2).pcp(pcp).build(),
            ReportingOptions.defaults().withOrder(order).withCapacity(capacity));
    PageIsolation other = new PageIsolation(h.a);
    List<Integer> otherHeld = new ArrayList<>();
    long bootFree = h.a.freePages();
    List<int[]> held = new ArrayList<>();
    h.agent.start();
    for (int step = 0; step < 800; step++) {
      int p = r.nextInt(100);
      String op;
      if (p < 42) {
        op = "alloc";
        alloc(h.a, r, held);
      } else if (p < 75) {
        op = "free";
        freeOne(h.a, r, held);
      } else if (p < 87) {
        op = "pass";
        SplittableRandom ir = new SplittableRandom(r.nextLong());
        boolean interfere = r.nextBoolean();
        int isolatedByOther = otherHeld.size();
        h.sink.during(
            interfere
                ? () -> {
                  if (ir.nextBoolean()) {
                    alloc(h.a, ir, held);
                  } else {
                    freeOne(h.a, ir, held);
                  }
                  List<String> v = InvariantChecker.violations(h.a);
                  if (!v.isEmpty()) {
                    fail(where + " inside report(): " + String.join("; ", v));
                  }
                }
                : null);
        h.agent.request();
        h.clock.advance(h.o.delay());
        h.sink.during(null);
        assertEquals(isolatedByOther, otherHeld.size());
      } else if (p < 91) {
        op = "fail the next report";
        h.sink.failCalls(h.sink.calls(), h.sink.calls() + 1, r.nextBoolean());
      } else if (p < 95) {
        op = "drain";
        for (Zone z : h.a.zones()) {
          h.a.drainAllPages(z);
        }
      } else {
        op = otherIsolation(h.a, other, otherHeld, r);
      }
      check(h.a, where + " step " + step + " (" + op + ")", otherHeld.size());
    }
    for (int pb : otherHeld) {
      other.undoIsolatePageRange(pb, pb + 512);
    }
    otherHeld.clear();
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
    check(h.a, where + " at the end", 0);
    assertEquals(ReportingAgent.State.IDLE, h.agent.state(), where);
    assertEquals(bootFree, h.a.freePages(), where + ": free pages after everything is freed");
    assertEquals(0, h.agent.metrics().passErrors(), where);
    assertEquals(0, h.strategy.pendingBits(0) + pendingElsewhere(h), where + ": bits left");
    assertTrue(h.agent.metrics().reportedBlocks() > 0, where + ": nothing was ever reported");
  }

  private static int pendingElsewhere(Iso h) {
    int n = 0;
    for (int i = 1; i < h.a.zones().size(); i++) {
      n += h.strategy.pendingBits(i);
    }
    return n;
  }

  /**
   * alloc_contig_range() or offlining as another isolation user: releases one of its pageblocks,
   * or isolates a MAX_ORDER-aligned pageblock that does not head an allocated block larger than a
   * pageblock (which isolation would migrate, moving the test's allocations).
   */
  private static String otherIsolation(
      PageAllocator a, PageIsolation other, List<Integer> otherHeld, SplittableRandom r) {
    if (!otherHeld.isEmpty() && r.nextBoolean()) {
      int pb = otherHeld.remove(r.nextInt(otherHeld.size()));
      other.undoIsolatePageRange(pb, pb + 512);
      return "other user undoes " + pb;
    }
    Zone z = a.zones().get(r.nextInt(a.zones().size()));
    int first = (z.startPfn() + 1023) & -1024;
    int count = (z.endPfn() - first) >> 10;
    if (count <= 0) {
      return "other user finds no pageblock";
    }
    int pb = first + (r.nextInt(count) << 10);
    MemMap mm = a.memMap();
    if (mm.kind(pb) == MemMap.K_ALLOC && mm.order(pb) > 9) {
      return "other user skips " + pb;
    }
    int rc = other.startIsolatePageRange(0, pb, pb + 512, PageIsolation.Mode.OTHER);
    if (rc == 0) {
      otherHeld.add(pb);
    }
    return "other user isolates " + pb + ": " + rc;
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
