package io.hintlab.guest.reporting;

import static io.hintlab.guest.reporting.HintAllocHoldStrategy.VIRTIO_BALLOON_CMD_ID_DONE;
import static io.hintlab.guest.reporting.HintAllocHoldStrategy.VIRTIO_BALLOON_CMD_ID_STOP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.MemMap;
import io.hintlab.guest.mm.MigrateType;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.PageIsolation;
import io.hintlab.guest.mm.Zone;
import io.hintlab.guest.mm.ZoneSpec;
import io.hintlab.guest.mm.ZoneType;
import io.hintlab.guest.reporting.ReportingOptions.Cursor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code free-list-walk} on the free page hint queue (Wei Wang's series: the walk as free page
 * hinting for live migration): a new command id starts a walk whose blocks go out under that id
 * between a start and a STOP, stale and reserved ids start nothing, a STOP or an answer naming
 * another id ends the walk, a failed call ends it without a STOP, nothing is ever taken off a
 * free list, and both cursors behave as they do when reporting. Virtual time, a recording device,
 * the invariant checker after every pass.
 */
class FreeListWalkHintQueueTest {
  private static final int X = 0x80000000;
  private static final int Y = X + 1;
  private static final int STOP = VIRTIO_BALLOON_CMD_ID_STOP;
  private static final int DONE = VIRTIO_BALLOON_CMD_ID_DONE;
  private static final int[] GFPS = {
    Gfp.GFP_HIGHUSER_MOVABLE, Gfp.GFP_KERNEL, Gfp.GFP_KERNEL_RECLAIMABLE, Gfp.GFP_ATOMIC
  };
  private static final ReportSink NO_REPORTS =
      (pfns, orders, n) -> fail("the walk reported on the hint queue");

  /** A free block on a list: head pfn, order, the list's migratetype. */
  record Key(int pfn, int order, int mt) {}

  /** One call on the free page queue: its kind, the id it carried, the hinted blocks. */
  record Call(String kind, int cmdId, List<Key> blocks) {}

  /**
   * The free page virtqueue: answers with the device's current id, checks every hinted block is
   * a free block on its list when it arrives (hinted in place) and that no zone lock is held,
   * can run an action inside each hint and fail chosen calls.
   */
  private static final class Device implements HintSink {
    final PageAllocator a;
    final List<Call> calls = new ArrayList<>();
    FreeListWalkStrategy walk;
    int current = STOP;
    int failAt = -1;
    Consumer<Call> during = c -> {};

    Device(PageAllocator a) {
      this.a = a;
    }

    void newId(int id) {
      current = id;
      walk.onCommandId(id);
    }

    @Override
    public int start(int cmdId) throws ReportException {
      return call(new Call("start", cmdId, List.of()));
    }

    @Override
    public int hint(int cmdId, long[] pfns, int[] orders, int n) throws ReportException {
      for (Zone z : a.zones()) {
        assertFalse(z.lock.isHeldByCurrentThread(), "zone " + z.name() + " lock held in hint()");
      }
      MemMap mm = a.memMap();
      List<Key> blocks = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int pfn = (int) pfns[i];
        assertTrue(mm.isBuddy(pfn) && mm.order(pfn) == orders[i],
            pfn + " is not a free block of order " + orders[i] + " when hinted");
        blocks.add(new Key(pfn, orders[i], mm.aux(pfn)));
      }
      return call(new Call("hint", cmdId, blocks));
    }

    @Override
    public void stop() throws ReportException {
      call(new Call("stop", STOP, List.of()));
    }

    private int call(Call c) throws ReportException {
      int index = calls.size();
      calls.add(c);
      if (c.kind().equals("hint")) {
        during.accept(c);
      }
      if (index == failAt) {
        throw new ReportException("device gone in call " + index);
      }
      return current;
    }

    List<String> kinds() {
      return calls.stream().map(Call::kind).toList();
    }

    List<Key> hinted() {
      List<Key> out = new ArrayList<>();
      calls.forEach(c -> out.addAll(c.blocks()));
      return out;
    }
  }

  /** An allocator with free-list-walk on the hint queue, a virtual clock and a device. */
  private static final class Walk {
    final PageAllocator a;
    final ManualWorkScheduler clock = new ManualWorkScheduler();
    final FreeListWalkStrategy strategy;
    final Device device;
    final ReportingAgent agent;

    Walk(MmConfig cfg, ReportingOptions o) {
      this.a = new PageAllocator(cfg);
      this.strategy = new FreeListWalkStrategy(a, o);
      this.device = new Device(a);
      device.walk = strategy;
      strategy.setHintSink(device);
      this.agent = new ReportingAgent(strategy, NO_REPORTS, Duration.ZERO, clock);
    }

    /** Starts the agent and runs its first pass (STOP: nothing). */
    Walk start() {
      agent.start();
      run();
      return this;
    }

    /** Runs the passes due now and checks the allocator. */
    ReportingMetrics.Snapshot run() {
      ReportingMetrics.Snapshot before = agent.metrics().snapshot();
      clock.advance(Duration.ZERO);
      InvariantChecker.check(a);
      return agent.metrics().snapshot().minus(before);
    }

    ReportingMetrics.Snapshot round(int id) {
      device.newId(id);
      return run();
    }

    Set<Key> freeBlocks(int minOrder) {
      Set<Key> out = new HashSet<>();
      for (Zone z : a.zones()) {
        z.lock.lock();
        try {
          for (int ord = minOrder; ord <= a.geometry().maxPageOrder(); ord++) {
            for (int mt = 0; mt < MigrateType.TYPES; mt++) {
              if (mt == MigrateType.ISOLATE) {
                continue;
              }
              for (int p = z.freeListFirst(ord, mt); p != MemMap.NIL; p = z.freeListNext(p)) {
                out.add(new Key(p, ord, mt));
              }
            }
          }
        } finally {
          z.lock.unlock();
        }
      }
      return out;
    }
  }

  private static MmConfig dma32Only(int blocks) {
    return MmConfig.builder()
        .zone(new ZoneSpec(ZoneType.DMA32, 4096, blocks * 1024, 0))
        .pcp(false)
        .build();
  }

  private static ReportingOptions order10(Cursor c) {
    return ReportingOptions.defaults().withOrder(10).withCapacity(1).withCursor(c);
  }

  /** 64 MiB, pcp off, seeded allocations and frees so that the lists hold many orders. */
  private static Walk churned(Cursor c, long seed) {
    Walk w = new Walk(MmConfig.builder().memory(64L << 20).pcp(false).build(),
        ReportingOptions.defaults().withOrder(3).withCapacity(8).withCursor(c));
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < 400; i++) {
      int pfn = w.a.allocPages(0, r.nextInt(6), GFPS[r.nextInt(GFPS.length)]);
      if (pfn >= 0 && r.nextBoolean()) {
        w.a.freePages(0, pfn, w.a.memMap().order(pfn));
      }
    }
    return w;
  }

  @ParameterizedTest(name = "cursor {0}")
  @ValueSource(strings = {"ORIGINAL", "PROGRESS"})
  void aNewIdWalksEveryFreeBlockUnderItBetweenStartAndStopHoldingNothing(String cursor) {
    Walk w = churned(Cursor.valueOf(cursor), 7).start();
    Set<Key> before = w.freeBlocks(3);
    long free = w.a.freePages();
    assertEquals(List.of(), w.device.calls, "STOP at start: no walk");

    ReportingMetrics.Snapshot d = w.round(X);

    List<String> kinds = w.device.kinds();
    assertEquals("start", kinds.get(0), kinds.toString());
    assertEquals(X, w.device.calls.get(0).cmdId());
    assertEquals("stop", kinds.get(kinds.size() - 1), kinds.toString());
    for (Call c : w.device.calls.subList(1, kinds.size() - 1)) {
      assertEquals("hint", c.kind());
      assertEquals(X, c.cmdId(), "every hint under the walk's id");
    }
    List<Key> hinted = w.device.hinted();
    assertEquals(before.size(), hinted.size(), "no block twice");
    assertEquals(before, new HashSet<>(hinted));
    assertEquals(before, w.freeBlocks(3), "the lists are untouched");
    assertEquals(free, w.a.freePages(), "nothing held");
    for (Key k : before) {
      assertFalse(w.a.memMap().isReported(k.pfn()), "hints never set PageReported: " + k);
    }
    assertEquals(1, d.hintRounds());
    assertEquals(hinted.size(), d.hintedBlocks());
    assertEquals(0, d.reportedBlocks(), "hinted, not reported");
    assertEquals(0, d.failedBatches());
    assertEquals(X, w.strategy.activeCmdId());
  }

  @Test
  void staleAndReservedIdsStartNoWalkAndDoneGivesNothingBack() {
    Walk w = churned(Cursor.PROGRESS, 11).start();
    w.round(X);
    int calls = w.device.calls.size();
    long free = w.a.freePages();

    w.device.walk.onCommandId(X); // the same id again (a config change for the balloon)
    assertEquals(0, w.run().hintRounds(), "a stale id");
    w.round(STOP);
    w.round(DONE);
    w.device.walk.onCommandId(X); // an id of a finished round after DONE
    w.run();
    assertEquals(calls, w.device.calls.size(), "no call for X again, STOP or DONE");
    assertEquals(free, w.a.freePages(), "DONE: nothing was held, nothing comes back");

    ReportingMetrics.Snapshot d = w.round(Y);
    assertEquals(1, d.hintRounds(), "a new id walks again");
    assertEquals(Y, w.device.calls.get(calls).cmdId());
  }

  @Test
  void aStopReceivedMidWalkEndsItAfterTheCallInFlightWithAStop() {
    Walk w = new Walk(dma32Only(8), order10(Cursor.PROGRESS)).start();
    w.device.during = c -> {
      if (w.device.hinted().size() == 2) {
        w.device.newId(STOP); // the host stops hinting before its bitmap sync
      }
    };
    w.round(X);
    assertEquals(List.of("start", "hint", "hint", "stop"), w.device.kinds());
  }

  @Test
  void anAnswerNamingAnotherIdEndsTheWalkWithAStop() {
    Walk w = new Walk(dma32Only(8), order10(Cursor.ORIGINAL)).start();
    w.device.during = c -> w.device.current = Y; // the device moved on; no config change yet
    w.round(X);
    assertEquals(List.of("start", "hint", "stop"), w.device.kinds());
    assertEquals(1, w.device.hinted().size());
  }

  @Test
  void anAnswerToTheStartNamingAnotherIdSendsOnlyTheStop() {
    Walk w = new Walk(dma32Only(8), order10(Cursor.PROGRESS)).start();
    w.device.walk.onCommandId(X); // the config said X, the device is at Y already
    w.device.current = Y;
    w.run();
    assertEquals(List.of("start", "stop"), w.device.kinds());
  }

  @Test
  void aFailedHintEndsTheWalkWithoutStopAndLosesNothing() {
    Walk w = new Walk(dma32Only(8), order10(Cursor.PROGRESS)).start();
    long free = w.a.freePages();
    Set<Key> before = w.freeBlocks(0);
    w.device.failAt = 2; // the second hint call
    ReportingMetrics.Snapshot d = w.round(X);
    assertEquals(List.of("start", "hint", "hint"), w.device.kinds(), "no STOP after a failure");
    assertEquals(1, d.failedBatches());
    assertEquals(1, d.hintedBlocks());
    assertEquals(free, w.a.freePages());
    assertEquals(before, w.freeBlocks(0));
    w.device.failAt = -1;
    d = w.round(Y);
    assertEquals(8, d.hintedBlocks(), "the next id walks every block");
  }

  @Test
  void freesDoNotStartWalksOnTheHintQueue() {
    Walk w = new Walk(dma32Only(2), order10(Cursor.PROGRESS)).start();
    int small = w.a.allocPages(0, 0, Gfp.GFP_HIGHUSER_MOVABLE);
    w.a.freePages(0, small, 0); // merges back to order 10
    assertEquals(ReportingAgent.State.IDLE, w.agent.state(), "only command ids start walks");
    w.agent.close();
    InvariantChecker.check(w.a);
  }

  /**
   * Tsirkin's churn (an isolation user probing the offered block) inside the hint calls: the
   * original cursor re-offers the list head until the step limit, the progressing cursor offers
   * each block once, as when reporting.
   */
  @ParameterizedTest(name = "cursor {0}")
  @ValueSource(strings = {"ORIGINAL", "PROGRESS"})
  void bothCursorsBehaveUnderChurnAsWhenReporting(String cursor) {
    Cursor c = Cursor.valueOf(cursor);
    Walk w = new Walk(dma32Only(8), order10(c)).start();
    PageIsolation iso = new PageIsolation(w.a);
    Zone z = w.a.zone(ZoneType.DMA32);
    int[] probed = {MemMap.NIL};
    w.device.during = call -> {
      int x = call.blocks().get(0).pfn();
      if (x == z.freeListFirst(10, MigrateType.MOVABLE)) {
        return;
      }
      if (probed[0] != MemMap.NIL) {
        iso.undoIsolatePageRange(probed[0], probed[0] + 512);
      }
      assertEquals(0, iso.startIsolatePageRange(0, x + 512, x + 1024, PageIsolation.Mode.OTHER));
      probed[0] = x + 512;
    };
    ReportingMetrics.Snapshot d = w.round(X);
    List<Integer> offered = w.device.hinted().stream().map(Key::pfn).toList();
    assertEquals("stop", w.device.kinds().get(w.device.kinds().size() - 1));
    if (c == Cursor.ORIGINAL) {
      assertEquals(List.of(4096, 5120, 4096, 6144, 4096, 7168, 4096, 8192),
          offered.subList(0, 8));
      assertEquals(FreeListWalkStrategy.STEP_LIMIT_FACTOR * 8, offered.size());
      assertEquals(1, d.walkStepLimits());
      assertTrue(Collections.frequency(offered, 4096) > 1, "the head again: " + offered);
    } else {
      assertEquals(List.of(4096, 5120, 6144, 7168, 8192, 9216, 10240, 11264), offered);
      assertEquals(0, d.walkStepLimits() + d.reoffers() + d.walkRestarts());
    }
  }

  /**
   * Seeded churn inside every hint call: every hinted block was free when hinted (checked by the
   * device), the invariants hold, and the progressing cursor hints no block twice and every block
   * that stayed free through the walk.
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5, 6})
  void walksStayHonestUnderRandomChurn(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    Cursor cursor = r.nextBoolean() ? Cursor.ORIGINAL : Cursor.PROGRESS;
    int order = new int[] {3, 5, 9}[r.nextInt(3)];
    String where = "seed " + seed + " (" + cursor + ", order " + order + ")";
    Walk w = new Walk(MmConfig.builder().memory(32L << 20).pcp(r.nextBoolean()).build(),
        ReportingOptions.defaults().withOrder(order).withCapacity(2).withCursor(cursor)).start();
    List<int[]> held = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      churn(w.a, r, held);
    }
    for (int round = 0; round < 3; round++) {
      String at = where + " walk " + round;
      Set<Key> persistent = w.freeBlocks(order);
      SplittableRandom cr = new SplittableRandom(r.nextLong());
      w.device.during = c -> {
        churn(w.a, cr, held);
        List<String> v = InvariantChecker.violations(w.a);
        assertTrue(v.isEmpty(), at + ": " + v);
        persistent.retainAll(w.freeBlocks(order));
      };
      int from = w.device.calls.size();
      ReportingMetrics.Snapshot d = w.round(X + round);
      Map<Key, Integer> offered = new HashMap<>();
      for (Call c : w.device.calls.subList(from, w.device.calls.size())) {
        assertTrue(c.kind().equals("stop") || c.cmdId() == X + round, at + ": " + c);
        c.blocks().forEach(k -> offered.merge(k, 1, Integer::sum));
      }
      assertEquals("stop", w.device.kinds().get(w.device.calls.size() - 1), at);
      if (cursor == Cursor.PROGRESS) {
        assertEquals(0, d.reoffers() + d.walkStepLimits(), at);
        offered.forEach((k, n) -> assertEquals(1, n, at + ": " + k + " hinted twice"));
        for (Key k : persistent) {
          assertTrue(offered.containsKey(k), at + ": " + k + " stayed free but was not hinted");
        }
      }
    }
    assertEquals(0, w.agent.metrics().passErrors(), where);
  }

  @Test
  void theQueueIsChosenOnceBeforeStart() {
    PageAllocator a = new PageAllocator(dma32Only(2));
    FreeListWalkStrategy s = new FreeListWalkStrategy(a, order10(Cursor.PROGRESS));
    assertEquals("hint sink must not be null",
        assertThrows(IllegalArgumentException.class, () -> s.setHintSink(null)).getMessage());
    Device d = new Device(a);
    s.setHintSink(d);
    assertTrue(s.hintsOnCommand());
    assertEquals("free-list-walk: hint sink already set",
        assertThrows(IllegalStateException.class, () -> s.setHintSink(d)).getMessage());

    FreeListWalkStrategy started = new FreeListWalkStrategy(a, order10(Cursor.PROGRESS));
    ReportingAgent agent =
        new ReportingAgent(started, NO_REPORTS, Duration.ZERO, new ManualWorkScheduler());
    agent.start();
    assertEquals("free-list-walk: setHintSink after the agent started; choose the queue before"
            + " start",
        assertThrows(IllegalStateException.class, () -> started.setHintSink(d)).getMessage());
    assertFalse(started.hintsOnCommand());
    agent.close();
  }

  private static void churn(PageAllocator a, SplittableRandom r, List<int[]> held) {
    if (held.isEmpty() || r.nextInt(100) < 55) {
      int p = r.nextInt(100);
      int ord = p < 40 ? r.nextInt(3) : p < 80 ? 3 + r.nextInt(6) : 9 + r.nextInt(2);
      int pfn = a.allocPages(0, ord, GFPS[r.nextInt(GFPS.length)]);
      if (pfn >= 0) {
        held.add(new int[] {pfn, ord});
      }
    } else {
      int i = r.nextInt(held.size());
      int[] b = held.get(i);
      held.set(i, held.get(held.size() - 1));
      held.remove(held.size() - 1);
      a.freePages(0, b[0], b[1]);
    }
  }
}
