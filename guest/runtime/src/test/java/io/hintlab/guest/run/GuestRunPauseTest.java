package io.hintlab.guest.run;

import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_FREE_PAGE_HINT;
import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_PAGE_REPORTING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.driver.FreePageVq;
import io.hintlab.guest.reporting.ReportingOptions;
import io.hintlab.guest.transport.CallDeadlines;
import io.hintlab.guest.transport.GuestAddress;
import io.hintlab.guest.transport.ReconnectPolicy;
import io.hintlab.guest.workload.WorkloadConfig;
import io.hintlab.proto.v1.ConfigEvent;
import io.hintlab.proto.v1.HintRequest;
import io.hintlab.proto.v1.PausedRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code guest run} against an in-process host while it is paused for a live migration: PAUSE
 * stops the workload, the reporting agent, the driver and the stats timer, and the Paused answer
 * lists pages that hold the guest's stamps; nothing is written (no dirty bit, no stats, no
 * inflate) between the answer and RESUME, for as long as the heartbeat ticks; RESUME lets the run
 * go on and finish clean; a host that dies while the guest is paused ends the run, bounded, with
 * exit code 1. Also free-list-walk on the hint queue, init_on_alloc's count, and the resident
 * set: held through the run, owned at a pause, verified and freed clean at the end.
 */
class GuestRunPauseTest {
  private static final long MEMORY = 64L << 20;
  private static final int VQ = FreePageVq.QEMU_FREE_PAGE_VQ_SIZE;
  private static final int ROUND = 0x80000000;
  private static final long RESIDENT_PAGES = 2048;
  private static final long MEMHOG_PAGES = 256;

  @TempDir Path dir;

  private static RunOptions options(String strategy, long seed, long ops, Duration duration,
      boolean initOnAlloc, boolean hintQueue) {
    return options(strategy, seed, ops, duration, initOnAlloc, hintQueue, ReconnectPolicy.exit());
  }

  private static RunOptions options(String strategy, long seed, long ops, Duration duration,
      boolean initOnAlloc, boolean hintQueue, ReconnectPolicy reconnect) {
    ReportingOptions ro = ReportingOptions.defaults().withDelay(
        hintQueue ? Duration.ZERO : Duration.ofMillis(50));
    return new RunOptions(GuestAddress.parse("unix:/nonexistent/host.sock"), "pause-test",
        MEMORY, 0, 2, strategy, ro, "churn", WorkloadConfig.DEFAULT, seed, ops, 0, duration,
        Duration.ZERO, false, Duration.ofMillis(20), true, initOnAlloc, hintQueue, VQ, reconnect,
        CallDeadlines.uniform(Duration.ofSeconds(2)));
  }

  /**
   * One memhog round of {@value #MEMHOG_PAGES} pages over a resident set of {@value
   * #RESIDENT_PAGES} pages, then a long idle stretch (the test ends it with requestStop()).
   */
  private static RunOptions residentOptions(long seed) {
    ReportingOptions ro = ReportingOptions.defaults().withDelay(Duration.ofMillis(50));
    return new RunOptions(GuestAddress.parse("unix:/nonexistent/host.sock"), "resident-test",
        MEMORY, RESIDENT_PAGES * 4096, 2, "page-reporting", ro, "memhog",
        WorkloadConfig.DEFAULT.withArgs(Map.of("bytes", MEMHOG_PAGES * 4096)), seed, 1, 0,
        Duration.ZERO, Duration.ofSeconds(60), false, Duration.ofMillis(20), true, true, false, VQ,
        ReconnectPolicy.exit(), CallDeadlines.uniform(Duration.ofSeconds(2)));
  }

  /** A run on its own thread, against {@code host}. */
  private static final class Running {
    final AtomicReference<RunSummary> summary = new AtomicReference<>();
    final AtomicReference<Throwable> error = new AtomicReference<>();
    final GuestRun run;
    final Thread thread;

    Running(RunOptions opts, FakeHost host) {
      run = new GuestRun(opts, a -> host.channel());
      thread = Thread.ofPlatform().name("guest-run-test").start(() -> {
        try {
          summary.set(run.run());
        } catch (Throwable t) {
          error.set(t);
        }
      });
    }

    /** Joins the run, bounded (a hang guard, not a timing assertion). */
    RunSummary join() throws InterruptedException {
      thread.join(FakeHost.WAIT.toMillis());
      assertFalse(thread.isAlive(), "the run ends");
      assertNull(error.get(), () -> "the run threw " + error.get());
      return summary.get();
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {3, 4})
  void pauseStopsEveryWriterUntilResumeAndTheRunFinishesClean(long seed) throws Exception {
    try (FakeHost host = new FakeHost(dir)) {
      AtomicLong unstamped = new AtomicLong(-1);
      host.onPaused = r -> {
        host.syncDirty(); // the stop-and-copy reads the log: what is dirty from here on is new
        unstamped.set(FakeHost.owned(r).stream().filter(p -> !host.stamped(p)).count());
      };
      Running run = new Running(
          options("page-reporting", seed, 2_000_000, Duration.ZERO, true, false), host);
      String at = "seed " + seed;
      assertTrue(host.await(() -> host.pages() > 0 && host.dirtyPages() > 1000
          && host.statsCalls.get() > 0), at + ": the workload writes, stats flow");

      host.push(ConfigEvent.Kind.PAUSE);
      assertTrue(host.await(() -> host.paused.size() == 1), at + ": answered");
      PausedRequest answer = host.paused.get(0);
      List<Long> owned = FakeHost.owned(answer);
      long stats = host.statsCalls.get();
      long inflated = host.inflated.get();
      host.setTarget(512); // work for the driver's thread, queued while paused
      long beats = host.heartbeats.get();
      assertTrue(host.await(() -> host.heartbeats.get() >= beats + 3), at + ": time passes");
      assertEquals(0, host.dirtyPages(), at + ": no page written between the answer and now");
      assertEquals(stats, host.statsCalls.get(), at + ": no stats while paused");
      assertEquals(inflated, host.inflated.get(), at + ": no inflate while paused");
      assertTrue(owned.size() > 0, at + ": the workload was mid-round");
      assertEquals(0, unstamped.get(), at + ": every owned page holds the guest's stamp");
      assertEquals(0, answer.getLostWrites(), at);

      host.push(ConfigEvent.Kind.RESUME);
      assertTrue(host.await(() -> host.dirtyPages() > 0), at + ": the workload writes again");
      assertTrue(host.await(() -> host.inflated.get() >= inflated + 512),
          at + ": the driver follows the target set while paused");
      RunSummary s = run.join();
      assertNotNull(s, at);
      assertEquals(0, s.exitCode(), at + ": " + s.problem());
      assertEquals(1, s.pausedCount(), at);
      assertEquals(owned.size(), s.pausedOwnedPages(), at);
      assertTrue(s.pausedMillis() > 0, at);
      assertEquals(0, s.lostWrites() + s.corruptPages(), at);
      assertTrue(s.initOnAllocPages() > 0, at + ": init_on_alloc zeroed the allocations");
      assertTrue(host.detached(), at);
      System.out.printf("pause test %s: %.2f s, %d owned pages, paused %d ms%n", at,
          s.seconds(), s.pausedOwnedPages(), s.pausedMillis());
    }
  }

  @Test
  void aHostThatDiesWhileTheGuestIsPausedEndsTheRunWithExitCodeOne() throws Exception {
    try (FakeHost host = new FakeHost(dir)) {
      Running run = new Running(
          options("page-reporting", 5, 2_000_000, Duration.ZERO, true, false), host);
      assertTrue(host.await(() -> host.pages() > 0 && host.dirtyPages() > 1000));
      host.push(ConfigEvent.Kind.PAUSE);
      assertTrue(host.await(() -> host.paused.size() == 1), "answered");
      host.kill();
      RunSummary s = run.join();
      assertEquals(1, s.exitCode(), String.valueOf(s));
      assertTrue(s.failure().contains("host"), s.failure());
      assertEquals(1, s.pausedCount());
      assertFalse(s.detached(), "nobody to detach from");
    }
  }

  @Test
  void aHeartbeatHiccupWhilePausedReconnectsButKeepsTheGuestPausedUntilResume()
      throws Exception {
    try (FakeHost host = new FakeHost(dir)) {
      host.onPaused = r -> host.syncDirty();
      ReconnectPolicy policy =
          ReconnectPolicy.reconnect(5, Duration.ofMillis(20), Duration.ofMillis(100));
      Running run = new Running(
          options("page-reporting", 8, 2_000_000, Duration.ZERO, true, false, policy), host);
      assertTrue(host.await(() -> host.pages() > 0 && host.dirtyPages() > 1000
          && host.watches.get() == 1));
      host.push(ConfigEvent.Kind.PAUSE);
      assertTrue(host.await(() -> host.paused.size() == 1), "answered");
      host.failHeartbeats.set(1);
      assertTrue(host.await(() -> host.watches.get() == 2),
          "the guest reconnected (resumed) and reopened its config stream");
      long beats = host.heartbeats.get();
      assertTrue(host.await(() -> host.heartbeats.get() >= beats + 3), "time passes");
      assertEquals(0, host.dirtyPages(), "still paused: nothing written after the hiccup");
      host.push(ConfigEvent.Kind.RESUME);
      RunSummary s = run.join();
      assertEquals(0, s.exitCode(), String.valueOf(s.problem()));
      assertEquals(1, s.reconnects());
      assertEquals(1, s.pausedCount());
      assertEquals(0, s.lostWrites());
    }
  }

  @Test
  void freeListWalkOnTheHintQueueHintsUnderTheHostsIdsWithoutInitOnAlloc() throws Exception {
    try (FakeHost host = new FakeHost(dir)) {
      Running run = new Running(
          options("free-list-walk", 6, 0, Duration.ofSeconds(2), false, true), host);
      assertTrue(host.await(() -> host.pages() > 0 && host.statsCalls.get() > 0));
      host.setCmdId(ROUND);
      assertTrue(host.await(() -> host.hints.stream().anyMatch(HintRequest::getStop)),
          "a walk ended with STOP");
      RunSummary s = run.join();
      assertEquals(0, s.exitCode(), String.valueOf(s.problem()));
      long features = host.driverFeatures();
      assertTrue((features & (1L << VIRTIO_BALLOON_F_FREE_PAGE_HINT)) != 0, "FREE_PAGE_HINT");
      assertEquals(0, features & (1L << VIRTIO_BALLOON_F_PAGE_REPORTING), "no PAGE_REPORTING");
      List<HintRequest> h = host.hints;
      assertEquals(ROUND, h.get(0).getStartCmdId());
      int ranges = 0;
      for (HintRequest r : h.subList(1, h.size() - 1)) {
        assertEquals(ROUND, r.getRanges().getCmdId(), "every hint under the host's id");
        ranges += r.getRanges().getRangesCount();
      }
      assertTrue(h.get(h.size() - 1).getStop());
      assertTrue(ranges > 0);
      assertEquals(1, s.hintRounds());
      assertTrue(s.hintedPages() > 0);
      assertEquals(0, s.reportedBytes());
      assertEquals(0, host.reports.get(), "nothing on the reporting queue");
      assertEquals(0, s.initOnAllocPages(), "--no-init-on-alloc zeroes nothing");
    }
  }

  @Test
  void theHintQueueNeedsFreePageHintAndSaysSo() throws Exception {
    try (FakeHost host = new FakeHost(dir)) {
      host.features = FakeHost.ALL_FEATURES & ~(1L << VIRTIO_BALLOON_F_FREE_PAGE_HINT);
      RunSummary s = new GuestRun(
          options("free-list-walk", 7, 0, Duration.ZERO, true, true), a -> host.channel()).run();
      assertEquals(1, s.exitCode());
      assertTrue(s.failure().contains("did not negotiate free page hinting (FREE_PAGE_HINT),"
          + " which strategy free-list-walk with --hint-queue needs"), s.failure());
    }
  }

  @Test
  void requestStopEndsALongRunAtOnceWithTheUsualFreeCheckAndDetach() throws Exception {
    try (FakeHost host = new FakeHost(dir)) {
      RunOptions opts = options("page-reporting", 9, 0, Duration.ofSeconds(3600), true, false);
      GuestRun run = new GuestRun(opts, a -> host.channel());
      AtomicReference<RunSummary> summary = new AtomicReference<>();
      Thread t = Thread.ofPlatform().name("guest-run-stop-test").start(() -> {
        try {
          summary.set(run.run());
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      assertTrue(host.await(() -> host.pages() > 0), "the guest attached");
      run.requestStop(); // what --stop-on-stdin-eof does when the lab closes stdin
      t.join(FakeHost.WAIT.toMillis());
      assertFalse(t.isAlive(), "an hour-long run ended when asked to stop");
      RunSummary s = summary.get();
      assertEquals(0, s.exitCode(), String.valueOf(s.problem()));
      assertTrue(s.detached());
      assertEquals(0, s.lostWrites());
      assertEquals(0, s.invariantViolations());
      assertTrue(host.detached());
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {12, 13})
  void theResidentSetIsHeldThroughTheRunOwnedAtAPauseAndFreedCleanAtTheEnd(long seed)
      throws Exception {
    try (FakeHost host = new FakeHost(dir)) {
      AtomicLong unstamped = new AtomicLong(-1);
      host.onPaused = r ->
          unstamped.set(FakeHost.owned(r).stream().filter(p -> !host.stamped(p)).count());
      Running run = new Running(residentOptions(seed), host);
      String at = "seed " + seed;
      // Only the fill and the round write (zeroed, then stamped): both are done past this.
      assertTrue(host.await(() -> host.pages() > 0
          && host.dirtyPages() >= RESIDENT_PAGES + MEMHOG_PAGES), at + ": filled, round ran");

      host.push(ConfigEvent.Kind.PAUSE);
      assertTrue(host.await(() -> host.paused.size() == 1), at + ": answered");
      long owned = FakeHost.owned(host.paused.get(0)).size();
      assertTrue(owned >= RESIDENT_PAGES && owned <= RESIDENT_PAGES + MEMHOG_PAGES,
          at + ": the resident set (and what memhog had not freed yet) is owned: " + owned);
      assertEquals(0, unstamped.get(), at + ": every owned page holds the guest's stamp");
      host.push(ConfigEvent.Kind.RESUME);
      run.run.requestStop();

      RunSummary s = run.join();
      assertEquals(0, s.exitCode(), at + ": " + s.problem());
      assertEquals(RESIDENT_PAGES, s.residentPages(), at);
      assertEquals(RESIDENT_PAGES, s.toMap().get("resident_pages"), at);
      assertTrue(s.pagesWritten() >= RESIDENT_PAGES + MEMHOG_PAGES, at);
      assertEquals(s.pagesWritten(), s.pagesVerified(), at + ": every stamp verified at its free");
      assertEquals(0, s.lostWrites() + s.corruptPages(), at);
      assertEquals(0, s.invariantViolations(), at + ": " + s.firstViolation());
      assertTrue(host.detached(), at);
    }
  }
}
