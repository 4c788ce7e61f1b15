package io.hintlab.guest.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.MemMap;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.proto.v1.ConfigEvent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The size work ({@code update_balloon_size_func()}): inflating to the host's target and
 * deflating back in arrays of at most 256 pfns, the host told before pages are freed, a later
 * target superseding the current one, "Out of puff!" when memory is short, and the state machine.
 */
class BalloonDriverTest {

  @Test
  void shouldInflateToTheTargetAndDeflateBackTellingTheHostBeforeFreeing() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      long free = f.freePages();
      List<String> freedTooEarly = new CopyOnWriteArrayList<>();
      f.fake.onDeflate = pfns -> {
        for (long p : pfns) {
          if (f.pa.memMap().kind((int) p) != MemMap.K_ALLOC) {
            freedTooEarly.add("pfn " + p + " was freed before the host was told");
          }
        }
      };
      BalloonDriver d = f.start(DriverOptions.defaults());
      f.fake.setTarget(1000);
      assertTrue(f.awaitSettled(1000), "inflated: " + d.metrics());
      assertEquals(free - 1000, f.freePages());
      assertEquals(toSet(d.balloonDevInfo().pfns()), f.fake.ballooned(),
          "the host holds exactly the balloon's pages");
      assertEquals(1000, d.actual(), "update_balloon_size()");

      f.fake.setTarget(0);
      assertTrue(f.awaitSettled(0), "deflated: " + d.metrics());
      assertEquals(List.of(), freedTooEarly, "MUST_TELL_HOST: tell, then free");
      assertEquals(free, f.freePages(), "every page is back in the buddy");
      DriverMetrics m = d.metrics();
      assertEquals(1000, m.inflatedPages());
      assertEquals(1000, m.deflatedPages());
      assertEquals(0, m.failures());
      assertEquals(0, d.actual());
      InvariantChecker.check(f.pa);
    }
  }

  @Test
  void shouldSendArraysOfAtMost256Pfns() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      BalloonDriver d = f.start(DriverOptions.defaults());
      f.fake.setTarget(3 * 256 + 1);
      assertTrue(f.awaitSettled(769), "inflated: " + d.metrics());
      assertEquals(List.of(256, 256, 256, 1), sizes(f.fake.buffers(FakeDevice.Rpc.INFLATE)));
      f.fake.setTarget(0);
      assertTrue(f.awaitSettled(0), "deflated: " + d.metrics());
      assertEquals(List.of(256, 256, 256, 1), sizes(f.fake.buffers(FakeDevice.Rpc.DEFLATE)));
    }
  }

  @Test
  void shouldFollowALaterTargetThatSupersedesTheCurrentFill() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      // The host lowers the target while the driver tells it of its second array.
      f.fake.onInflate = pfns -> {
        if (f.fake.buffers(FakeDevice.Rpc.INFLATE).size() == 1) {
          f.fake.setTarget(300);
        }
      };
      BalloonDriver d = f.start(DriverOptions.defaults());
      f.fake.setTarget(10_000);
      assertTrue(f.awaitSettled(300), "settled: " + d.metrics());
      assertEquals(2, f.fake.buffers(FakeDevice.Rpc.INFLATE).size(),
          "no third array after the target dropped");
      DriverMetrics m = d.metrics();
      assertEquals(512, m.inflatedPages());
      assertEquals(212, m.deflatedPages());
      assertEquals(toSet(d.balloonDevInfo().pfns()), f.fake.ballooned());
    }
  }

  @Test
  void shouldWaitAfterOutOfPuffAndReachTheTargetOnceMemoryIsBack() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      PageAllocator pa = f.pa;
      List<Integer> hog = new ArrayList<>();
      for (int pfn; (pfn = pa.allocPages(0, 0, Gfp.GFP_KERNEL | Gfp.__GFP_NORETRY)) >= 0; ) {
        hog.add(pfn);
      }
      BalloonDriver d = f.start(DriverOptions.defaults());
      long failuresBefore = pa.allocFailures();
      long t0 = System.nanoTime();
      f.fake.setTarget(2000);
      assertTrue(f.await(() -> d.metrics().outOfPuff() >= 3), "out of puff: " + d.metrics());
      long puffs = d.metrics().outOfPuff();
      long failed = pa.allocFailures() - failuresBefore;
      long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
      // Each failed allocation is one "Out of puff!", and each is followed by msleep(200).
      assertTrue(failed >= puffs && failed <= puffs + 1, failed + " failures, " + puffs + " puffs");
      assertTrue(puffs <= elapsedMs / BalloonDriver.OUT_OF_PUFF_MS + 1,
          puffs + " out-of-puff waits in " + elapsedMs + " ms: a busy loop");
      assertTrue(d.metrics().balloonPages() < 2000);

      for (int pfn : hog) {
        pa.freePages(0, pfn, 0);
      }
      assertTrue(f.awaitSettled(2000), "retried: " + d.metrics());
      assertEquals(2000, d.metrics().balloonPages());
      InvariantChecker.check(pa);
    }
  }

  @Test
  void shouldKeepTheBalloonButDoNoMoreWorkAfterShutdown() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      long free = f.freePages();
      BalloonDriver d = f.start(DriverOptions.defaults());
      f.fake.setTarget(100);
      assertTrue(f.awaitSettled(100));
      f.fake.push(ConfigEvent.Kind.PAUSE);
      f.fake.push(ConfigEvent.Kind.RESUME);
      assertEquals(BalloonDriver.State.RUNNING, d.state(), "PAUSE and RESUME are left alone");
      f.fake.push(ConfigEvent.Kind.SHUTDOWN);
      assertEquals(BalloonDriver.State.QUIESCED, d.state());
      int calls = f.fake.calls.size();
      f.fake.setTarget(500);
      f.fake.setTarget(0);
      assertEquals(calls, f.fake.calls.size(), "no work after SHUTDOWN");
      assertEquals(100, d.metrics().balloonPages());
      d.stop();
      assertEquals(BalloonDriver.State.REMOVED, d.state());
      assertEquals(0, d.metrics().balloonPages());
      assertEquals(free, f.freePages());
      assertEquals(0, f.fake.balloonedCount(), "remove_common() told the host");
    }
  }

  @Test
  void shouldRefuseToStartTwiceOrTakeAHintTargetAfterStart() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      BalloonDriver d = f.start(DriverOptions.defaults());
      IllegalStateException again = assertThrows(IllegalStateException.class, d::start);
      assertEquals("start: the driver is RUNNING, not STOPPED", again.getMessage());
      IllegalStateException late = assertThrows(IllegalStateException.class,
          () -> d.setHintTarget(new RecordingHintTarget()));
      assertEquals("setHintTarget: the driver is RUNNING; set the target before start",
          late.getMessage());
      d.stop();
      d.stop();
      assertEquals(BalloonDriver.State.REMOVED, d.state());
      IllegalStateException rewatch = assertThrows(IllegalStateException.class, d::rewatch);
      assertEquals("rewatch: the driver is REMOVED", rewatch.getMessage());
    }
  }

  @Test
  void shouldStopAtOnceWhenNeverStarted() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      BalloonDriver d = new BalloonDriver(f.pa, f.client, DriverOptions.defaults());
      d.stop();
      assertEquals(BalloonDriver.State.REMOVED, d.state());
      assertEquals(0, f.fake.openStreams(), "no watch was opened");
    }
  }

  @Test
  void shouldRejectACpuTheAllocatorDoesNotHave() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new BalloonDriver(f.pa, f.client, DriverOptions.defaults().withCpu(2)));
      assertEquals("cpu must be in [0, 2), got 2", e.getMessage());
    }
  }

  @Test
  void shouldReadTheTargetAsUnsignedWhenItIsAboveIntMax() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      Balloon b = new Balloon(f.pa, f.client, new DriverCounters(), DriverOptions.NO_INIT);
      assertEquals(1, b.pagesPerPage(), "4 KiB guest pages");
      assertEquals(4_294_967_295L, b.towardsTarget(-1), "num_pages is a u32");
      assertEquals(7, b.towardsTarget(7));
    }
  }

  @Test
  void shouldTellTheHostFromTheDriversThreadWhenTheListenerGetsATarget() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      List<String> threads = new CopyOnWriteArrayList<>();
      f.fake.onInflate = pfns -> threads.add(Thread.currentThread().getName());
      f.start(DriverOptions.defaults());
      String listenerThread = Thread.currentThread().getName();
      f.fake.setTarget(10); // the push runs the listener on this thread (direct executor)
      assertTrue(f.awaitSettled(10));
      assertEquals(List.of(BalloonDriver.THREAD_NAME), threads,
          "the listener (on " + listenerThread + ") only queued the work");
    }
  }

  static TreeSet<Long> toSet(int[] pfns) {
    TreeSet<Long> s = new TreeSet<>();
    Arrays.stream(pfns).forEach(p -> s.add((long) p));
    return s;
  }

  private static List<Integer> sizes(List<long[]> buffers) {
    return buffers.stream().map(b -> b.length).toList();
  }
}
