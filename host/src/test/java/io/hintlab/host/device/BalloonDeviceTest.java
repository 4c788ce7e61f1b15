package io.hintlab.host.device;

import static io.hintlab.host.device.DeviceFixture.features;
import static io.hintlab.host.device.VirtioBalloon.VIRTIO_BALLOON_F_FREE_PAGE_HINT;
import static io.hintlab.host.device.VirtioBalloon.VIRTIO_BALLOON_F_MUST_TELL_HOST;
import static io.hintlab.host.device.VirtioBalloon.VIRTIO_BALLOON_F_PAGE_POISON;
import static io.hintlab.host.device.VirtioBalloon.VIRTIO_BALLOON_F_PAGE_REPORTING;
import static io.hintlab.host.device.VirtioBalloon.VIRTIO_BALLOON_F_STATS_VQ;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.host.races.RaceEvent;
import io.hintlab.host.races.RaceKind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BalloonDeviceTest {
  private static final long ALL =
      features(VIRTIO_BALLOON_F_PAGE_REPORTING, VIRTIO_BALLOON_F_FREE_PAGE_HINT,
          VIRTIO_BALLOON_F_STATS_VQ, VIRTIO_BALLOON_F_MUST_TELL_HOST);

  @Test
  void shouldDiscardReportedRangeAndLowerAllocatedBlocks() throws Exception {
    try (DeviceFixture f = new DeviceFixture(ALL, HostMode.DISCARD)) {
      f.write(0, 1024);
      long before = f.dev.memory().allocatedBytes();
      var r = f.dev.report(new long[] {0, 512}, new int[] {9, 9});
      assertEquals(1024, r.discardedPages());
      assertEquals(before - (4L << 20), f.dev.memory().allocatedBytes());
      assertEquals(0, f.dev.races().total(), "writes before the report are not races");
      assertEquals(1, f.dev.counter(Counter.REPORTS));
      assertEquals(4L << 20, f.dev.counter(Counter.REPORTED_BYTES));
    }
  }

  @Test
  void shouldRefuseReportWhenNotNegotiatedAndChangeNothing() throws Exception {
    try (DeviceFixture f = new DeviceFixture(0, HostMode.DISCARD)) {
      f.write(0, 512);
      var e = assertThrows(BalloonException.class,
          () -> f.dev.report(new long[] {0}, new int[] {9}));
      assertEquals(BalloonException.Reason.FEATURE_NOT_NEGOTIATED, e.reason());
      assertEquals(2L << 20, f.dev.memory().allocatedBytes());
      assertEquals(0, f.dev.counter(Counter.REPORTS));
    }
  }

  @Test
  void shouldSkipDiscardWhenPoisonValIsNonZero() throws Exception {
    long feat = ALL | features(VIRTIO_BALLOON_F_PAGE_POISON);
    try (DeviceFixture f =
        new DeviceFixture(feat, HostMode.DISCARD, 0xaaaaaaaa, UnaryOperator.identity())) {
      f.write(0, 512);
      var r = f.dev.report(new long[] {0}, new int[] {9});
      assertEquals(1, r.ignoredRanges());
      assertEquals(2L << 20, f.dev.memory().allocatedBytes());
    }
  }

  @Test
  void shouldDiscardInflatedPagesEvenWhenPoisonValIsNonZero() throws Exception {
    // QEMU's balloon_inflate_page() has no poison check: only the reporting handler skips.
    long feat = ALL | features(VIRTIO_BALLOON_F_PAGE_POISON);
    try (DeviceFixture f =
        new DeviceFixture(feat, HostMode.DISCARD, 0xaaaaaaaa, UnaryOperator.identity())) {
      f.write(0, 512);
      assertEquals(4, f.dev.inflate(new long[] {0, 1, 2, 3}));
      assertEquals((2L << 20) - 4 * 4096, f.dev.memory().allocatedBytes());
    }
  }

  @Test
  void shouldDetectPageWrittenWhileReportInFlight() throws Exception {
    DeviceFixture[] self = new DeviceFixture[1];
    // The guest writes pfn 7 while the host discards: a broken driver that reused a reported page.
    UnaryOperator<io.hintlab.host.memory.Discarder> wrap = real -> (off, len) -> {
      real.discard(off, len);
      self[0].dev.memory().dirtyLog().markDirty(7);
    };
    try (DeviceFixture f = new DeviceFixture(ALL, HostMode.DISCARD, 0, wrap)) {
      self[0] = f;
      f.write(0, 512);
      f.dev.report(new long[] {0}, new int[] {9});
      assertEquals(1, f.dev.races().count(RaceKind.WRITTEN_DURING_REPORT));
      List<RaceEvent> ev = f.log.since(0, 10, "g1");
      assertEquals(7, ev.get(0).pfn());
      assertEquals(RaceKind.WRITTEN_DURING_REPORT, ev.get(0).kind());
      assertFalse(f.dev.memory().isDiscarded(7), "a written page is not discarded any more");
      assertTrue(f.dev.memory().isDiscarded(8));
    }
  }

  @Test
  void shouldCountRefaultWhenReportedPageIsWrittenAfterAck() throws Exception {
    try (DeviceFixture f = new DeviceFixture(ALL, HostMode.DISCARD)) {
      f.dev.report(new long[] {0}, new int[] {9});
      f.write(3, 1);
      f.dev.report(new long[] {0}, new int[] {9});
      assertEquals(1, f.dev.counters().get("refaults"));
      assertEquals(0, f.dev.races().total(), "a write after the ack is legal");
    }
  }

  @Test
  void shouldLogStaleHintsAndApplyNone() throws Exception {
    try (DeviceFixture f = new DeviceFixture(ALL, HostMode.DISCARD_HINTS)) {
      f.write(0, 1024);
      int id = f.dev.hinting().requestNewCmdId();
      f.dev.hintStart(id);
      var r = f.dev.hintRanges(id + 5, new long[] {0}, new int[] {10});
      assertEquals(1, r.ignored());
      assertEquals(1, f.dev.races().count(RaceKind.STALE_HINT));
      assertEquals(4L << 20, f.dev.memory().allocatedBytes(), "stale hints discard nothing");
      assertEquals(1, f.dev.counter(Counter.STALE_HINTS));
    }
  }

  @Test
  void shouldJudgeADelayedHintRequestByTheStatusWhenTheDeviceTakesIt() throws Exception {
    DeviceOptions slow = DeviceOptions.defaults().withHintDelay(Duration.ofMillis(300));
    try (DeviceFixture f = new DeviceFixture(ALL, HostMode.DISCARD_HINTS, slow)) {
      f.write(0, 1024);
      int id = f.dev.hinting().requestNewCmdId();
      f.dev.hintStart(id);
      CompletableFuture<FreePageHinting.Result> late = CompletableFuture.supplyAsync(() -> {
        try {
          return f.dev.hintRanges(id, new long[] {0}, new int[] {10});
        } catch (BalloonException e) {
          throw new IllegalStateException(e);
        }
      });
      Thread.sleep(50); // the request waits in the queue: the device stops the round meanwhile
      f.dev.hinting().stop();
      FreePageHinting.Result r = late.get(10, TimeUnit.SECONDS);

      assertEquals(0, r.applied(), "taken after STOP, as QEMU's iothread would: not applied");
      assertEquals(1, r.ignored());
      assertEquals(4L << 20, f.dev.memory().allocatedBytes(), "nothing discarded");
    }
  }

  @Test
  void shouldRejectAHintDelayOutsideZeroToOneSecond() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DeviceOptions.defaults().withHintDelay(Duration.ofMillis(1001)));
    assertEquals("hint delay must be in [0, 1000] ms, was 1001 ms", e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> DeviceOptions.defaults().withHintDelay(Duration.ofMillis(-1)));
  }

  @Test
  void shouldDetectPageDirtiedBetweenHintAndDiscard() throws Exception {
    DeviceFixture[] self = new DeviceFixture[1];
    UnaryOperator<io.hintlab.host.memory.Discarder> wrap = real -> (off, len) -> {
      self[0].dev.memory().dirtyLog().markDirty(off / 4096 + 5); // shrinker freed, page reused
      real.discard(off, len);
    };
    try (DeviceFixture f = new DeviceFixture(ALL, HostMode.DISCARD_HINTS, 0, wrap)) {
      self[0] = f;
      f.write(0, 1024);
      int id = f.dev.hinting().requestNewCmdId();
      f.dev.hintStart(id);
      var r = f.dev.hintRanges(id, new long[] {0}, new int[] {10});
      assertEquals(1, r.applied());
      assertEquals(1, f.dev.races().count(RaceKind.DIRTIED_BEFORE_HINT_DISCARD));
      assertEquals(5, f.log.since(0, 1, null).get(0).pfn());
      assertEquals(0, f.dev.memory().allocatedBytes());
    }
  }

  @Test
  void shouldSkipPagesWrittenSinceHintWhenPaused() throws Exception {
    try (DeviceFixture f = new DeviceFixture(ALL, HostMode.DISCARD_HINTS_PAUSED)) {
      f.write(0, 1024);
      f.dev.setEvents(new DeviceEvents() {
        @Override
        public void configChanged(ConfigSpace c) {}

        @Override
        public void pause(ConfigSpace c) {
          try {
            f.write(9, 1); // written after the hint arrived, before the vCPUs stopped
            f.dev.paused(new byte[0], 0);
          } catch (IOException | BalloonException e) {
            throw new UncheckedIOException(new IOException(e));
          }
        }

        @Override
        public void resume(ConfigSpace c) {}

        @Override
        public void shutdown(ConfigSpace c) {}
      });
      int id = f.dev.hinting().requestNewCmdId();
      f.dev.hintStart(id);
      f.dev.hintRanges(id, new long[] {0}, new int[] {10});
      assertFalse(f.dev.paused(), "resumed after the discard");
      assertEquals(1, f.dev.counter(Counter.HINT_SKIPPED_DIRTY_PAGES));
      assertEquals(4096, f.dev.memory().allocatedBytes(), "only the written page stays");
      assertFalse(f.dev.memory().isDiscarded(9));
      assertEquals(0, f.dev.races().total());
    }
  }

  @Test
  void shouldInflateDiscardAndDeflateWithMustTellHost() throws Exception {
    try (DeviceFixture f = new DeviceFixture(ALL, HostMode.DISCARD)) {
      f.write(0, 4);
      assertEquals(4, f.dev.inflate(new long[] {0, 1, 2, 3}));
      assertEquals(0, f.dev.memory().allocatedBytes());
      assertEquals(4, f.dev.config().actual());
      f.write(2, 1); // used while in the balloon
      f.dev.deflate(new long[] {0, 1, 2, 3});
      assertEquals(1, f.dev.races().count(RaceKind.WRITTEN_WHILE_INFLATED));
      assertEquals(0, f.dev.config().actual());
      var e = assertThrows(BalloonException.class, () -> f.dev.inflate(new long[257]));
      assertEquals(BalloonException.Reason.TOO_MANY_ENTRIES, e.reason());
    }
  }

  @Test
  void shouldShowDiscardedAndHintedBlocksInMemoryMap() throws Exception {
    try (DeviceFixture f = new DeviceFixture(ALL, HostMode.MIGRATE)) {
      f.dev.report(new long[] {0}, new int[] {9});
      int id = f.dev.hinting().requestNewCmdId();
      f.dev.hintStart(id);
      f.dev.hintRanges(id, new long[] {1024}, new int[] {10});
      byte[] map = f.dev.memoryMap();
      assertEquals(8, map.length);
      assertEquals(4, map[0]);
      assertEquals(7, map[2]);
      assertEquals(7, map[3]);
      f.dev.hinting().done();
      assertEquals(0, f.dev.memoryMap()[2], "DONE releases hinted pages");
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(value = HostMode.class, names = {"DISCARD", "MIGRATE", "DISCARD_HINTS",
      "HINT_WAIT_ACK"})
  void shouldApplyHintAsTheHostModeSays(HostMode mode) throws Exception {
    try (DeviceFixture f = new DeviceFixture(ALL, mode)) {
      List<long[]> migrationSink = new ArrayList<>();
      f.dev.setMigrationHintSink((pfn, n, id) -> migrationSink.add(new long[] {pfn, n}));
      f.write(0, 1024);
      int id = f.dev.startHinting();
      f.dev.hintStart(id);
      var r = f.dev.hintRanges(id, new long[] {0}, new int[] {10});
      assertEquals(1, r.applied());
      assertEquals(1024, f.dev.counter(Counter.HINTED_PAGES), "every mode counts the hint");
      // discard-hints and hint-wait-ack discard before the Hint call returns (the ack); discard
      // only records hints; migrate hands them to the migration bitmap and discards nothing.
      boolean discards = mode == HostMode.DISCARD_HINTS || mode == HostMode.HINT_WAIT_ACK;
      assertEquals(discards ? 0 : 4L << 20, f.dev.memory().allocatedBytes(), mode.wireName());
      assertEquals(discards ? 1024 : 0, f.dev.counter(Counter.HINT_DISCARDED_PAGES));
      assertEquals(mode == HostMode.MIGRATE ? 1 : 0, migrationSink.size());
      if (mode == HostMode.MIGRATE) {
        assertEquals(1024, migrationSink.get(0)[1]);
      }
    }
  }

  @Test
  void shouldIgnoreAndCountReportedRangesNotAlignedToBackingPage() throws Exception {
    // 1 KiB guest pages on a 4 KiB tmpfs backing: an order-0 range is a quarter of a host page,
    // which QEMU's virtio_balloon_handle_report() skips ("simply ignore unaligned memory regions").
    java.nio.file.Path dir = io.hintlab.host.memory.StateDirs.createHostDir(
        io.hintlab.host.memory.StateDirs.defaultBase());
    var mem = io.hintlab.host.memory.GuestMemory.create(dir, "small", 1L << 20, 1024);
    try (BalloonDevice dev = new BalloonDevice("g2", "small-pages", 1, mem,
        FeatureNegotiation.offered(HostMode.DISCARD), features(VIRTIO_BALLOON_F_PAGE_REPORTING), 0,
        10, HostMode.DISCARD, new io.hintlab.host.races.RaceLog(8), DeviceOptions.defaults())) {
      assertEquals(4096, mem.backingPageSize());
      var r = dev.report(new long[] {1, 8}, new int[] {0, 2});
      assertEquals(1, r.ignoredRanges());
      assertEquals(4, r.discardedPages(), "the aligned 4 KiB range is discarded");
      assertEquals(1, dev.counters().get("misaligned_ranges"));
      assertEquals(1, dev.counter(Counter.IGNORED_RANGES));
      assertFalse(mem.isDiscarded(1));
    } finally {
      io.hintlab.host.memory.StateDirs.deleteTree(dir);
    }
  }

  @Test
  void shouldNeverFaultInDiscardedPagesWhileObservingThem() throws Exception {
    // A read of a punched tmpfs page allocates it again; nothing the host does after a discard
    // (status, maps, counters, syncs, repeated reports, inflate/deflate, hint discards) may read
    // guest RAM.
    try (DeviceFixture f = new DeviceFixture(ALL, HostMode.DISCARD_HINTS)) {
      f.write(0, 1024);
      f.dev.report(new long[] {0, 512}, new int[] {9, 9});
      assertEquals(0, f.dev.memory().allocatedBytes());
      f.dev.memoryMap();
      f.dev.counters();
      f.dev.config();
      f.dev.memory().syncAllDirty(null);
      f.dev.report(new long[] {0}, new int[] {10});
      f.dev.inflate(new long[] {3, 700});
      f.dev.deflate(new long[] {3, 700});
      int id = f.dev.startHinting();
      f.dev.hintStart(id);
      f.dev.hintRanges(id, new long[] {0}, new int[] {10});
      assertEquals(0, f.dev.memory().allocatedBytes(), "a discarded page was read");
      assertEquals(1024, f.dev.memory().discardedPages());
      assertEquals(0, f.dev.counters().get("refaults"));
    }
  }

  @Test
  void shouldRejectFeaturesNotOfferedOrUnknown() {
    long offered = FeatureNegotiation.offered(HostMode.DISCARD);
    var unknown = assertThrows(BalloonException.class,
        () -> FeatureNegotiation.negotiate(offered, 1L << 40));
    assertEquals(BalloonException.Reason.UNKNOWN_FEATURE, unknown.reason());
    var notOffered = assertThrows(BalloonException.class,
        () -> FeatureNegotiation.negotiate(offered, 1L << 6));
    assertEquals(BalloonException.Reason.FEATURE_NOT_OFFERED, notOffered.reason());
  }

  @Test
  void shouldAllowOneMigrationClaimAtATime() throws Exception {
    try (DeviceFixture f = new DeviceFixture(ALL, HostMode.MIGRATE)) {
      assertTrue(f.dev.claimMigration());
      assertTrue(f.dev.migrating());
      assertFalse(f.dev.claimMigration());
      f.dev.releaseMigration();
      assertFalse(f.dev.migrating());
      assertTrue(f.dev.claimMigration());
    }
  }

  @Test
  void shouldResumeAGuestWhosePauseWaitWasInterrupted() throws Exception {
    try (DeviceFixture f = new DeviceFixture(ALL, HostMode.MIGRATE)) {
      java.util.concurrent.CountDownLatch paused = new java.util.concurrent.CountDownLatch(1);
      java.util.concurrent.atomic.AtomicInteger resumes =
          new java.util.concurrent.atomic.AtomicInteger();
      f.dev.setEvents(new DeviceEvents() {
        @Override
        public void configChanged(ConfigSpace c) {}

        @Override
        public void pause(ConfigSpace c) {
          paused.countDown(); // and never answer
        }

        @Override
        public void resume(ConfigSpace c) {
          resumes.incrementAndGet();
        }

        @Override
        public void shutdown(ConfigSpace c) {}
      });
      java.util.concurrent.atomic.AtomicReference<BalloonException> failure =
          new java.util.concurrent.atomic.AtomicReference<>();
      Thread t = new Thread(() -> {
        try {
          f.dev.pause();
        } catch (BalloonException e) {
          failure.set(e);
        }
      }, "pause-test");
      t.start();
      assertTrue(paused.await(5, java.util.concurrent.TimeUnit.SECONDS));
      t.interrupt();
      t.join(5_000);
      assertFalse(t.isAlive());
      assertEquals(BalloonException.Reason.HOST_FAILURE, failure.get().reason());
      assertEquals(1, resumes.get(), "an abandoned PAUSE must be followed by RESUME");
      assertFalse(f.dev.paused());
    }
  }
}
