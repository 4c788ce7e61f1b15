package io.hintlab.guest.reporting;

import static io.hintlab.guest.reporting.HintAllocHoldStrategy.VIRTIO_BALLOON_CMD_ID_DONE;
import static io.hintlab.guest.reporting.HintAllocHoldStrategy.VIRTIO_BALLOON_CMD_ID_STOP;
import static io.hintlab.guest.reporting.HintAllocHoldStrategy.VIRTIO_BALLOON_FREE_PAGE_ALLOC_FLAG;
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
import io.hintlab.guest.mm.Shrinker;
import io.hintlab.guest.mm.Zone;
import io.hintlab.guest.mm.ZoneSpec;
import io.hintlab.guest.mm.ZoneType;
import io.hintlab.guest.reporting.FakeFreePageVq.Call;
import io.hintlab.guest.reporting.FakeFreePageVq.Kind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code hint-alloc-hold}: the Linux free page hinting driver against a fake device, on the real
 * allocator and a virtual clock. Rounds start, hint and stop in order; blocks stay held through
 * STOP and are freed on DONE, by the shrinker under a GFP_KERNEL allocation's reclaim and when the
 * device goes away; ids that change mid-round, stale answers and a failing device end rounds as
 * the driver does. The invariant checker runs after every pass.
 */
class HintAllocHoldStrategyTest {
  /** VIRTIO_BALLOON_FREE_PAGE_HINT_CMD_ID_MIN: QEMU's first round id (negative as an int). */
  private static final int X = 0x80000000;
  private static final int Y = X + 1;
  private static final int STOP = VIRTIO_BALLOON_CMD_ID_STOP;
  private static final int DONE = VIRTIO_BALLOON_CMD_ID_DONE;
  private static final int BLOCK = 1024;
  private static final int WORKLOAD_CPU = 0;
  private static final int[] WORKLOAD_GFPS = {
    Gfp.GFP_KERNEL, Gfp.GFP_HIGHUSER_MOVABLE, Gfp.GFP_KERNEL_RECLAIMABLE
  };
  private static final ReportSink NO_REPORTS =
      (pfns, orders, n) -> fail("hint-alloc-hold used the report sink");

  /** An allocator with hint-alloc-hold started on a virtual clock and a fake device. */
  private static final class Hinting {
    final PageAllocator a;
    final ManualWorkScheduler clock = new ManualWorkScheduler();
    final HintAllocHoldStrategy strategy;
    final FakeFreePageVq device;
    final ReportingAgent agent;
    final long freeAtStart;

    Hinting(MmConfig cfg, ReportingOptions o) {
      this.a = new PageAllocator(cfg);
      this.strategy = new HintAllocHoldStrategy(a, o);
      this.device = new FakeFreePageVq(a, o.batchSize()).attach(strategy);
      Duration delay = ReportingStrategies.defaultDelay(HintAllocHoldStrategy.NAME);
      this.agent = new ReportingAgent(strategy, NO_REPORTS, delay, clock);
      agent.start();
      clock.advance(Duration.ZERO); // the first pass: the config says STOP, nothing to do
      this.freeAtStart = a.freePages();
    }

    static Hinting boot() {
      return new Hinting(threeZones(), ReportingOptions.defaults());
    }

    /** Runs the passes due now, then checks the allocator. */
    ReportingMetrics.Snapshot run() {
      ReportingMetrics.Snapshot before = agent.metrics().snapshot();
      clock.advance(Duration.ZERO);
      InvariantChecker.check(a);
      return agent.metrics().snapshot().minus(before);
    }

    /** The device hands out id, and the pass it queues runs. */
    ReportingMetrics.Snapshot round(int id) {
      device.newId(id);
      return run();
    }

    /** Heads of blocks the driver allocated and has not freed, counted over every pfn. */
    int driverBlocks() {
      int n = 0;
      for (int pfn = 0; pfn < a.memMap().nrPages(); pfn++) {
        if (strategy.isHintBlock(pfn)) {
          n++;
        }
      }
      return n;
    }

    /** The hint calls of the device, in order. */
    List<Call> hintCalls() {
      return device.calls().stream().filter(c -> c.kind() == Kind.HINT).toList();
    }
  }

  /** DMA32, Normal and Movable zones of 32, 48 and 8 order-10 blocks; two cpus, pcp on. */
  private static MmConfig threeZones() {
    return MmConfig.builder()
        .zone(new ZoneSpec(ZoneType.DMA32, 4 * BLOCK, 32 * BLOCK, 0))
        .zone(new ZoneSpec(ZoneType.NORMAL, 36 * BLOCK, 48 * BLOCK, 0))
        .zone(new ZoneSpec(ZoneType.MOVABLE, 84 * BLOCK, 8 * BLOCK, 0))
        .nrCpus(2)
        .thp(false)
        .build();
  }

  /** Whether another block with the driver's flags would pass the min watermark of z. */
  private static boolean roomForAnotherBlock(Zone z) {
    return z.watermarkOk(10, z.wmarkPages(Zone.WMARK_MIN), ZoneType.NORMAL.ordinal(), 0);
  }

  @ParameterizedTest(name = "batch size {0}")
  @ValueSource(ints = {1, 7, 16})
  void shouldStartHintAndStopInOrderHoldingUnmovableOrder10BlocksUntilAllocationFails(int batch) {
    Hinting h = new Hinting(threeZones(), ReportingOptions.defaults().withBatchSize(batch));
    MemMap mm = h.a.memMap();
    long movableFree = h.a.zone(ZoneType.MOVABLE).freePages();

    ReportingMetrics.Snapshot d = h.round(X);

    List<Kind> kinds = h.device.kinds();
    assertEquals(Kind.START, kinds.get(0), kinds.toString());
    assertEquals(X, h.device.calls().get(0).cmdId());
    assertEquals(Kind.STOP, kinds.get(kinds.size() - 1), kinds.toString());
    List<Call> hints = h.hintCalls();
    assertEquals(kinds.size() - 2, hints.size(), "only hints between start and stop: " + kinds);
    for (int i = 0; i < hints.size(); i++) {
      int size = hints.get(i).pfns().size();
      assertTrue(i == hints.size() - 1 ? size <= batch : size == batch, "call " + i + ": " + size);
    }
    List<Integer> pfns = h.device.hinted();
    int n = pfns.size();
    assertTrue(n > 64, "most of DMA32 and Normal hinted, got " + n + " blocks");
    assertEquals(n, new HashSet<>(pfns).size(), "no block hinted twice");
    for (int pfn : pfns) {
      assertEquals(0, pfn & (BLOCK - 1), "block " + pfn + " aligned");
      assertEquals(MigrateType.UNMOVABLE, mm.aux(pfn), "block " + pfn + " allocated UNMOVABLE");
      assertEquals(MigrateType.UNMOVABLE, mm.getPfnblockMigratetype(pfn), "pageblock " + pfn);
      assertEquals(MigrateType.UNMOVABLE, mm.getPfnblockMigratetype(pfn + 512), "pageblock 2");
      assertTrue(h.strategy.isHintBlock(pfn), "block " + pfn + " held");
      assertTrue(h.a.zoneOf(pfn).type() != ZoneType.MOVABLE, "block " + pfn + " not in Movable");
    }
    assertEquals(movableFree, h.a.zone(ZoneType.MOVABLE).freePages(), "ZONE_MOVABLE untouched");
    assertFalse(roomForAnotherBlock(h.a.zone(ZoneType.DMA32)), "DMA32 drained to its watermark");
    assertFalse(roomForAnotherBlock(h.a.zone(ZoneType.NORMAL)), "Normal drained to its watermark");
    assertEquals(-1, h.a.allocPages(WORKLOAD_CPU, 10, VIRTIO_BALLOON_FREE_PAGE_ALLOC_FLAG));
    assertEquals(n, h.strategy.heldBlocks());
    assertEquals(n, h.driverBlocks());
    assertEquals(h.freeAtStart - (long) n * BLOCK, h.a.freePages());
    assertEquals(1, d.hintRounds());
    assertEquals(n, d.hintedBlocks());
    assertEquals((long) n * BLOCK, d.hintedPages());
    assertEquals((long) n << 22, d.hintedBytes(), "4 MiB per block");
    assertEquals(hints.size(), d.batches());
    assertEquals(0, d.reportedBytes(), "hinted blocks are not reported free memory");
    assertEquals(0, d.failedBatches());
    assertEquals(X, h.strategy.activeCmdId());
  }

  @Test
  void shouldKeepHeldBlocksWhenTheDeviceSaysStop() {
    Hinting h = Hinting.boot();
    h.round(X);
    int n = h.strategy.heldBlocks();
    int calls = h.device.calls().size();
    long free = h.a.freePages();

    ReportingMetrics.Snapshot d = h.round(STOP);

    assertEquals(1, d.passes());
    assertEquals(calls, h.device.calls().size(), "STOP sends nothing");
    assertEquals(n, h.strategy.heldBlocks());
    assertEquals(n, h.driverBlocks());
    assertEquals(free, h.a.freePages());
    assertEquals(0, d.hintBlocksFreedOnDone());
  }

  @Test
  void shouldFreeEveryHeldBlockOnDoneLeavingTheAllocatorAsItWas() {
    Hinting h = Hinting.boot();
    h.round(X);
    int n = h.strategy.heldBlocks();
    int calls = h.device.calls().size();

    ReportingMetrics.Snapshot d = h.round(DONE);

    assertEquals(calls, h.device.calls().size(), "DONE sends nothing");
    assertEquals(n, d.hintBlocksFreedOnDone());
    assertEquals(0, h.strategy.heldBlocks());
    assertEquals(0, h.driverBlocks());
    assertEquals(h.freeAtStart, h.a.freePages(), "every page back in the buddy");
    d = h.round(Y);
    assertEquals(n, d.hintedBlocks(), "the next round takes the same memory again");
  }

  @Test
  void shouldStartNoSecondRoundForTheSameId() {
    Hinting h = Hinting.boot();
    h.round(X);
    int calls = h.device.calls().size();
    int n = h.strategy.heldBlocks();

    ReportingMetrics.Snapshot d = h.round(X);
    assertEquals(1, d.passes());
    assertEquals(0, d.hintRounds());
    h.round(STOP);
    d = h.round(X);

    assertEquals(0, d.hintRounds(), "the active id after a STOP starts nothing either");
    assertEquals(calls, h.device.calls().size());
    assertEquals(n, h.strategy.heldBlocks());
  }

  @ParameterizedTest(name = "device answers the new id: {0}")
  @ValueSource(booleans = {true, false})
  void shouldEndTheRoundAndStartANewOneWhenANewIdArrivesMidRound(boolean answerSeesNewId) {
    Hinting h = Hinting.boot();
    h.device.during(
        c -> {
          if (c.kind() == Kind.HINT && c.cmdId() == X && h.hintCalls().size() == 2) {
            if (answerSeesNewId) {
              h.device.newId(Y);
            } else {
              h.strategy.onCommandId(Y); // the config change overtakes the device's answer
            }
          } else if (c.kind() == Kind.START && c.cmdId() == Y) {
            h.device.answerWith(Y);
          }
        });

    ReportingMetrics.Snapshot d = h.round(X);

    assertEquals(2, d.passes(), "the new id queued a second pass");
    assertEquals(2, d.hintRounds());
    List<Call> calls = h.device.calls();
    assertEquals(
        List.of(Kind.START, Kind.HINT, Kind.HINT, Kind.STOP, Kind.START),
        h.device.kinds().subList(0, 5));
    assertEquals(X, calls.get(1).cmdId());
    assertEquals(X, calls.get(2).cmdId());
    assertEquals(Y, calls.get(4).cmdId());
    assertEquals(Kind.STOP, calls.get(calls.size() - 1).kind());
    assertTrue(calls.subList(5, calls.size() - 1).stream().allMatch(c -> c.cmdId() == Y));
    assertTrue(calls.size() > 7, "round Y hinted blocks: " + h.device.kinds());
    assertEquals(h.device.hinted().size(), h.strategy.heldBlocks(), "both rounds' blocks held");
    assertFalse(roomForAnotherBlock(h.a.zone(ZoneType.NORMAL)));
    assertEquals(Y, h.strategy.activeCmdId());
  }

  @Test
  void shouldEndTheRoundWhenTheDeviceAnswersWithAnotherId() {
    Hinting h = Hinting.boot();
    h.device.during(
        c -> {
          if (c.kind() == Kind.HINT) {
            h.device.answerWith(STOP); // the device stopped; its config change is not here yet
          }
        });

    ReportingMetrics.Snapshot d = h.round(X);

    assertEquals(List.of(Kind.START, Kind.HINT, Kind.STOP), h.device.kinds());
    assertEquals(1, d.hintRounds());
    assertEquals(16, h.strategy.heldBlocks(), "the blocks the device took stay held");
    assertEquals(X, h.strategy.receivedCmdId());
    h.agent.request();
    d = h.run();
    assertEquals(1, d.passes());
    assertEquals(3, h.device.calls().size(), "a rerun of the same id starts nothing");
  }

  @Test
  void shouldSendNoBlocksWhenTheDeviceAnswersTheStartWithAnotherId() {
    Hinting h = Hinting.boot();
    h.device.during(
        c -> {
          if (c.kind() == Kind.START) {
            h.device.answerWith(Y); // already a newer round at the device
          }
        });

    ReportingMetrics.Snapshot d = h.round(X);

    assertEquals(List.of(Kind.START, Kind.STOP), h.device.kinds());
    assertEquals(1, d.hintRounds());
    assertEquals(0, d.hintedBlocks());
    assertEquals(0, h.strategy.heldBlocks());
    assertEquals(h.freeAtStart, h.a.freePages());
  }

  @Test
  void shouldGiveHeldBlocksBackThroughTheShrinkerWhenAGfpKernelAllocationNeedsMemory() {
    Hinting h = Hinting.boot();
    h.round(X);
    int n = h.strategy.heldBlocks();
    long stalls = h.a.allocStalls();
    List<Integer> taken = new ArrayList<>();

    // allocate until one allocation had to reclaim; every one must succeed
    while (h.a.allocStalls() == stalls) {
      assertTrue(taken.size() < h.freeAtStart, "no direct reclaim after " + taken.size());
      int pfn = h.a.allocPages(WORKLOAD_CPU, 0, Gfp.GFP_KERNEL);
      assertTrue(pfn >= 0, "GFP_KERNEL allocation " + taken.size() + " failed");
      taken.add(pfn);
    }

    InvariantChecker.check(h.a);
    long shrunk = h.agent.metrics().hintBlocksShrunk();
    assertTrue(shrunk >= 1, "the shrinker gave blocks back");
    assertEquals(n - shrunk, h.strategy.heldBlocks());
    assertEquals(h.strategy.heldBlocks(), h.driverBlocks());
    assertEquals((long) h.strategy.heldBlocks() * BLOCK, h.strategy.shrinker().countObjects());
    for (int pfn : taken) {
      h.a.freePages(WORKLOAD_CPU, pfn, 0);
    }
    h.a.drainAllPages(null);
    assertEquals(
        h.freeAtStart, h.a.freePages() + (long) h.strategy.heldBlocks() * BLOCK, "every page");
  }

  @Test
  void shouldScanWholeBlocksLastHintedFirst() {
    Hinting h = Hinting.boot();
    h.round(X);
    List<Integer> hinted = h.device.hinted();
    int n = hinted.size();
    Shrinker s = h.strategy.shrinker();

    assertEquals((long) n * BLOCK, s.countObjects());
    assertEquals(BLOCK, s.scanObjects(WORKLOAD_CPU, 1), "one page to scan frees a whole block");
    assertFalse(h.strategy.isHintBlock(hinted.get(n - 1)), "balloon_page_pop(): last in first");
    assertTrue(h.strategy.isHintBlock(hinted.get(0)));
    assertEquals(2 * BLOCK, s.scanObjects(WORKLOAD_CPU, BLOCK + 1));
    assertEquals(BLOCK, s.scanObjects(WORKLOAD_CPU, BLOCK));
    assertEquals((long) (n - 4) * BLOCK, s.scanObjects(WORKLOAD_CPU, (long) n * BLOCK));
    assertEquals(0, s.countObjects());
    assertEquals(0, s.scanObjects(WORKLOAD_CPU, 1));
    assertEquals(n, h.agent.metrics().hintBlocksShrunk());
    InvariantChecker.check(h.a);
    assertEquals(h.freeAtStart, h.a.freePages());
  }

  @Test
  void shouldFreeTheFailedCallsBlocksAndKeepEarlierOnesWhenTheDeviceGoesAway() {
    Hinting h = Hinting.boot();
    h.device.failCalls(false, i -> i == 3);

    ReportingMetrics.Snapshot d = h.round(X);

    assertEquals(List.of(Kind.START, Kind.HINT, Kind.HINT, Kind.HINT), h.device.kinds());
    assertEquals(1, d.failedBatches());
    assertEquals(2, d.batches());
    assertEquals(32, d.hintedBlocks());
    assertEquals(32, h.strategy.heldBlocks());
    for (int pfn : h.device.calls().get(3).pfns()) {
      assertFalse(h.strategy.isHintBlock(pfn), "block " + pfn + " of the failed call freed");
    }
    for (Call c : h.device.calls().subList(1, 3)) {
      c.pfns().forEach(p -> assertTrue(h.strategy.isHintBlock(p), "block " + p + " held"));
    }
    assertEquals(h.freeAtStart - 32L * BLOCK, h.a.freePages());
    d = h.round(DONE);
    assertEquals(32, d.hintBlocksFreedOnDone());
    assertEquals(h.freeAtStart, h.a.freePages());
  }

  @Test
  void shouldSendNothingMoreWhenTheStartIsNotTaken() {
    Hinting h = Hinting.boot();
    h.device.failCalls(false, i -> i == 0);

    ReportingMetrics.Snapshot d = h.round(X);

    assertEquals(List.of(Kind.START), h.device.kinds());
    assertEquals(1, d.failedBatches());
    assertEquals(0, d.hintRounds());
    assertEquals(0, h.strategy.heldBlocks());
    assertEquals(X, h.strategy.activeCmdId(), "send_cmd_id_start() made X active");
    d = h.round(Y);
    assertEquals(1, d.hintRounds(), "the next id runs once the device is back");
    assertTrue(h.strategy.heldBlocks() > 0);
  }

  @Test
  void shouldCountAFailedStopAndKeepTheBlocks() {
    Hinting h = Hinting.boot();
    h.device.failCalls(false, i -> h.device.calls().get(i).kind() == Kind.STOP);

    ReportingMetrics.Snapshot d = h.round(X);

    assertEquals(1, d.failedBatches());
    assertEquals(d.hintedBlocks(), h.strategy.heldBlocks());
    assertTrue(d.hintedBlocks() > 0);
  }

  @Test
  void shouldFreeTheCallsBlocksWhenTheSinkThrowsARuntimeException() {
    Hinting h = Hinting.boot();
    h.device.failCalls(true, i -> i == 2);

    ReportingMetrics.Snapshot d = h.round(X);

    assertEquals(List.of(Kind.START, Kind.HINT, Kind.HINT), h.device.kinds());
    assertEquals(1, d.passErrors());
    assertEquals("device bug in call 2", h.agent.lastFailure().orElseThrow().getMessage());
    assertEquals(16, h.strategy.heldBlocks());
    assertEquals(16, h.driverBlocks(), "the blocks of the failed call went back");
    assertEquals(h.freeAtStart - 16L * BLOCK, h.a.freePages());
  }

  @Test
  void shouldFreeEveryHeldBlockWhenTheDeviceIsRemoved() {
    Hinting h = Hinting.boot();
    h.round(X);
    int n = h.strategy.heldBlocks();
    int calls = h.device.calls().size();

    h.agent.close();

    InvariantChecker.check(h.a);
    assertEquals(n, h.agent.metrics().hintBlocksFreedOnClose());
    assertEquals(0, h.strategy.heldBlocks());
    assertEquals(0, h.driverBlocks());
    assertEquals(h.freeAtStart, h.a.freePages());
    assertEquals(0, h.strategy.shrinker().countObjects());
    h.round(Y);
    assertEquals(calls, h.device.calls().size(), "no round after the device is gone");
  }

  @Test
  void shouldFreeTheBlocksOfACallInFlightWhenTheDeviceIsRemovedMidRound() {
    Hinting h = Hinting.boot();
    h.device.during(
        c -> {
          if (c.kind() == Kind.HINT && h.hintCalls().size() == 2) {
            h.agent.close(); // device removal while the second call is with the device
          }
        });

    ReportingMetrics.Snapshot d = h.round(X);

    assertEquals(List.of(Kind.START, Kind.HINT, Kind.HINT), h.device.kinds(), "no STOP");
    assertEquals(32, d.hintedBlocks());
    assertEquals(32, d.hintBlocksFreedOnClose(), "16 held and 16 in flight");
    assertEquals(0, h.strategy.heldBlocks());
    assertEquals(0, h.driverBlocks());
    assertEquals(h.freeAtStart, h.a.freePages());
  }

  @Test
  void shouldRejectProgrammerErrors() {
    PageAllocator a = new PageAllocator(threeZones());
    HintAllocHoldStrategy s = new HintAllocHoldStrategy(a, ReportingOptions.defaults());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> s.setHintSink(null));
    assertEquals("hint sink must not be null", e.getMessage());
    ReportingAgent agent =
        new ReportingAgent(s, NO_REPORTS, Duration.ZERO, new ManualWorkScheduler());
    IllegalStateException ise = assertThrows(IllegalStateException.class, agent::start);
    assertEquals(
        "hint-alloc-hold: no hint sink; call setHintSink() before the agent starts",
        ise.getMessage());
    s.setHintSink(new FakeFreePageVq(a, 16));
    ise = assertThrows(IllegalStateException.class, () -> s.setHintSink(new FakeFreePageVq(a, 1)));
    assertEquals("hint-alloc-hold: hint sink already set", ise.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new HintAllocHoldStrategy(a, ReportingOptions.defaults().withBatchSize(1024)));
    assertEquals(
        "batchSize must be in [1, 1023] (one free page vq entry is reserved for the cmd id),"
            + " got 1024",
        e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new HintAllocHoldStrategy(a, ReportingOptions.defaults().withIsolationCpu(2)));
    assertEquals("isolationCpu must be in [0, 2), got 2", e.getMessage());
    assertEquals(10, s.hintBlockOrder(), "MAX_PAGE_ORDER on x86-64");
    assertEquals(1, s.cpu(), "the allocator's last cpu by default");
  }

  /**
   * Ids (new, STOP, DONE, the same again; also arriving inside a call), a failing device and a
   * workload's allocations and frees interleaved at random; after every step the allocator's
   * invariants hold, the driver's blocks are exactly the held ones, and every hinted block is held
   * or was freed on DONE, by the shrinker or at close. At the end every page is free again.
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
  void shouldAccountForEveryPageWhenIdsAllocationsAndFreesInterleave(long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    Hinting h =
        new Hinting(threeZones(), ReportingOptions.defaults().withBatchSize(1 + rnd.nextInt(16)));
    Ids ids = new Ids(h, rnd);
    h.device.failCalls(false, i -> rnd.nextInt(25) == 0);
    h.device.during(
        c -> {
          if (rnd.nextInt(10) == 0) {
            ids.change();
          }
        });
    List<int[]> live = new ArrayList<>();
    for (int step = 0; step < 400; step++) {
      int r = rnd.nextInt(100);
      if (r < 12) {
        ids.change();
      } else if (r < 22) {
        h.clock.advance(Duration.ZERO);
      } else if (r < 62) {
        int order = rnd.nextInt(10) == 0 ? 9 : rnd.nextInt(4);
        int gfp = WORKLOAD_GFPS[rnd.nextInt(WORKLOAD_GFPS.length)];
        int pfn = h.a.allocPages(WORKLOAD_CPU, order, gfp);
        if (pfn >= 0) {
          live.add(new int[] {pfn, order});
        }
      } else if (!live.isEmpty()) {
        int[] b = live.remove(rnd.nextInt(live.size()));
        h.a.freePages(WORKLOAD_CPU, b[0], b[1]);
      }
      checkAccounting(h, "seed " + seed + " step " + step);
    }
    String where = "seed " + seed + " at the end";
    assertTrue(h.agent.metrics().hintRounds() > 0, where + ": no round ran");
    for (int[] b : live) {
      h.a.freePages(WORKLOAD_CPU, b[0], b[1]);
    }
    h.device.failCalls(false, i -> false);
    h.device.newId(DONE);
    h.clock.advance(Duration.ZERO);
    checkAccounting(h, where);
    assertEquals(0, h.strategy.heldBlocks(), where);
    h.a.drainAllPages(null);
    assertEquals(h.freeAtStart, h.a.freePages(), where + ": every page free again");
    h.agent.close();
    assertEquals(0, h.agent.metrics().passErrors(), where);
  }

  /** The device's id changes of the random test: new ids, STOP, DONE, the last id again. */
  private static final class Ids {
    private final Hinting h;
    private final SplittableRandom rnd;
    private int next = X;
    private int last = STOP;

    Ids(Hinting h, SplittableRandom rnd) {
      this.h = h;
      this.rnd = rnd;
    }

    void change() {
      int r = rnd.nextInt(10);
      if (r < 5) {
        last = next++;
        h.device.newId(last);
      } else if (r < 7) {
        h.device.newId(STOP);
      } else if (r < 9) {
        h.device.newId(DONE);
      } else {
        h.device.newId(last);
      }
    }
  }

  private static void checkAccounting(Hinting h, String where) {
    List<String> v = InvariantChecker.violations(h.a);
    if (!v.isEmpty()) {
      fail(where + ": " + String.join("; ", v));
    }
    ReportingMetrics m = h.agent.metrics();
    int held = h.strategy.heldBlocks();
    assertEquals(held, h.driverBlocks(), where + ": driver blocks are the held ones");
    assertEquals(
        m.hintedBlocks(),
        m.hintBlocksFreedOnDone() + m.hintBlocksShrunk() + m.hintBlocksFreedOnClose() + held,
        where + ": every hinted block held or freed");
  }
}
