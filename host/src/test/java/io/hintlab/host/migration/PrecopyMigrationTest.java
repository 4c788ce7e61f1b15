package io.hintlab.host.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.host.device.BalloonException;
import io.hintlab.host.device.BalloonException.Reason;
import io.hintlab.host.device.HintStatus;
import io.hintlab.host.device.HostMode;
import io.hintlab.host.device.VirtioBalloon;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PrecopyMigrationTest {
  private static final long MIB = 1L << 20;
  private static final int PAGE = 4096;
  private static final Duration PAUSE = Duration.ofSeconds(5);
  private static final Duration BOUND = Duration.ofSeconds(10);

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3})
  void hintsCutTheBytesOfAnIdleGuestWithNinetyPercentFreeToAFifth(long seed) throws Exception {
    MigrationReport with;
    MigrationReport without;
    // QEMU's default 128 MiB/s: round 0 takes ~250 ms, and the guest hints while it runs.
    Bandwidth link = MigrationOptions.DEFAULT_BANDWIDTH;
    try (MigrationFixture f =
        new MigrationFixture(32 * MIB, StandInGuest.Behaviour.idle(seed, 0.1), PAUSE)) {
      with = f.migrate(f.options().withBandwidth(link));
      assertNull(f.guest.failure(), "seed " + seed);
      long until = System.nanoTime() + BOUND.toNanos(); // the guest handles DONE on its thread
      while (f.guest.heldBlocks() > 0 && System.nanoTime() < until) {
        Thread.sleep(5);
      }
      assertEquals(0, f.guest.heldBlocks(), "seed " + seed + ": DONE releases hinted blocks");
    }
    try (MigrationFixture f =
        new MigrationFixture(32 * MIB, StandInGuest.Behaviour.idle(seed, 0.1), PAUSE)) {
      without = f.migrate(f.options().withBandwidth(link).withHints(false));
    }
    String where = "seed " + seed + ": with hints " + with.transfer() + ", without "
        + without.transfer();
    assertTrue(with.hinting() && !without.hinting(), where);
    assertTrue(with.transfer().bytesSent() * 5 <= without.transfer().bytesSent(), where);
    assertTrue(with.transfer().hintedBeforeReached() > 0, where);
    assertEquals(with.transfer().hintedBeforeReached(),
        with.roundStats().get(0).pagesSkippedByHints(), where);
    assertEquals(0, with.verification().corruptedPages(), where);
    assertEquals(0, without.transfer().pagesSkippedByHints(), where);
  }

  @Test
  void zeroPagesAndHolesGoAsZeroPagesCountedApartAndHolesAreNeverRead() throws Exception {
    StandInGuest.Behaviour b = StandInGuest.Behaviour.idle(7, 0.5).withZeroFraction(0.5, false);
    try (MigrationFixture f = new MigrationFixture(16 * MIB, b, PAUSE)) {
      long allocatedBefore = f.device.memory().allocatedBytes();
      MigrationReport r = f.migrate(f.options().withHints(false));
      long zeroData = f.guest.zeroBlocksAtStart() * StandInGuest.BLOCK_PAGES;
      long holes = f.guest.holeBlocksAtStart() * StandInGuest.BLOCK_PAGES;
      long owned = f.guest.ownedPages();
      MigrationReport.Transfer t = r.transfer();
      assertTrue(zeroData > 0 && holes > 0 && owned > zeroData, t.toString());
      assertEquals(owned - zeroData, t.normalPages(), t.toString());
      assertEquals(zeroData + holes, t.zeroPages(), t.toString());
      assertEquals(holes, t.holePages(), t.toString());
      assertEquals(t.normalPages() * (PAGE + PageSender.PAGE_HEADER_BYTES)
          + t.zeroPages() * PageSender.ZERO_PAGE_WIRE_BYTES, t.bytesSent());
      assertEquals(allocatedBefore, f.device.memory().allocatedBytes(),
          "reading a hole would have allocated it");
      assertEquals(owned, r.verification().ownedPages());
      assertEquals(0, r.verification().corruptedPages());
    }
  }

  @Test
  void simulatedTimesAreBytesOverTheRate() throws Exception {
    long rate = 64 * MIB;
    try (MigrationFixture f =
        new MigrationFixture(16 * MIB, StandInGuest.Behaviour.idle(3, 0.3), PAUSE)) {
      MigrationReport r = f.migrate(f.options().withBandwidth(new Bandwidth(rate))
          .withHints(false));
      long pages = 16 * MIB / PAGE; // every page holds data (history): all go as normal pages
      long bytes = pages * (PAGE + PageSender.PAGE_HEADER_BYTES);
      assertEquals(bytes, r.transfer().bytesSent());
      assertEquals(bytes * 1_000_000_000L / rate, r.timing().migrationNanos());
      assertEquals(r.timing().migrationNanos() / 1_000_000, r.timing().migrationMs());
      long sum = 0;
      for (RoundStats s : r.roundStats()) {
        assertEquals(s.wireBytes() * 1_000_000_000L / rate, s.linkNanos(), s.toString());
        sum += s.wireBytes();
      }
      assertEquals(bytes, sum);
      RoundStats last = r.roundStats().get(r.roundStats().size() - 1);
      assertTrue(last.stopAndCopy());
      assertEquals(r.timing().pauseNanos() + last.linkNanos(), r.timing().downtimeNanos());
    }
  }

  @Test
  void anUnlimitedLinkTakesNoSimulatedTimeAndConvergesAfterTheFirstRound() throws Exception {
    try (MigrationFixture f =
        new MigrationFixture(8 * MIB, StandInGuest.Behaviour.racy(5), PAUSE)) {
      MigrationReport r = f.migrate(f.options().withBandwidth(Bandwidth.UNLIMITED));
      assertEquals(0, r.timing().migrationNanos());
      assertEquals(r.timing().pauseNanos(), r.timing().downtimeNanos());
      assertEquals(1, r.transfer().rounds(), "any remaining set fits an unlimited link");
      assertTrue(r.transfer().converged());
      assertEquals(0, r.verification().corruptedPages());
    }
  }

  @Test
  void switchesOverAsSoonAsTheRemainingSetFitsTheDowntimeLimit() throws Exception {
    try (MigrationFixture f =
        new MigrationFixture(16 * MIB, StandInGuest.Behaviour.racy(2), PAUSE)) {
      // 10 s at 256 MiB/s is far more than 16 MiB: the first sync already fits.
      MigrationReport r = f.migrate(f.options().withBandwidth(new Bandwidth(256 * MIB))
          .withDowntimeLimitMs(10_000));
      assertEquals(1, r.transfer().rounds());
      assertTrue(r.transfer().converged());
      checkSwitchOverRule(r);
    }
  }

  @Test
  void switchesOverAtMaxRoundsWhileTheGuestKeepsDirtyingItsHotSet() throws Exception {
    try (MigrationFixture f =
        new MigrationFixture(16 * MIB, StandInGuest.Behaviour.racy(4), PAUSE)) {
      // 32 MiB/s: each round re-sends the 128-page hot set, ~16 ms, never an empty sync.
      MigrationReport r = f.migrate(f.options().withBandwidth(new Bandwidth(32 * MIB))
          .withDowntimeLimitMs(0).withMaxRounds(5));
      assertEquals(5, r.transfer().rounds(), r.roundStats().toString());
      assertFalse(r.transfer().converged());
      checkSwitchOverRule(r);
      assertEquals(0, r.verification().corruptedPages());
    }
  }

  // The report obeys the rule: every round but the last left more than the threshold; the last
  // fits it when (and only when) the migration converged; the stop-and-copy ends with nothing.
  private static void checkSwitchOverRule(MigrationReport r) {
    MigrationOptions o = r.options();
    long threshold = o.bandwidth().bytesIn(o.downtimeLimitMs());
    List<RoundStats> rounds = r.roundStats();
    assertEquals(r.transfer().rounds() + 1, rounds.size());
    for (int i = 0; i < rounds.size() - 1; i++) {
      RoundStats s = rounds.get(i);
      boolean fits = s.remainingPages() == 0 || s.remainingPages() * PAGE < threshold;
      boolean last = i == rounds.size() - 2;
      assertEquals(last && r.transfer().converged(), fits, s.toString());
      assertFalse(s.stopAndCopy(), s.toString());
    }
    assertTrue(r.transfer().converged() || r.transfer().rounds() == o.maxRounds());
    assertTrue(rounds.get(rounds.size() - 1).stopAndCopy());
    assertEquals(0, rounds.get(rounds.size() - 1).remainingPages());
  }

  @Test
  void hintSavingsAddUpOverTheRounds() throws Exception {
    try (MigrationFixture f =
        new MigrationFixture(16 * MIB, StandInGuest.Behaviour.racy(6), PAUSE)) {
      MigrationReport r = f.migrate(f.options().withBandwidth(new Bandwidth(256 * MIB))
          .withDowntimeLimitMs(0).withMaxRounds(10));
      long sum = r.roundStats().stream().mapToLong(RoundStats::pagesSkippedByHints).sum();
      assertEquals(r.transfer().pagesSkippedByHints(), sum);
      assertTrue(r.transfer().pagesSkippedByHints() <= r.transfer().pagesHinted());
      assertEquals(r.transfer().rounds() + 1, r.transfer().hintCmdIds(),
          "one id after the setup sync and after every pre-copy round's sync");
    }
  }

  @Test
  void aGuestThatNeverAnswersPauseFailsTheMigrationWithinThePauseTimeout() throws Exception {
    StandInGuest.Behaviour silent = StandInGuest.Behaviour.idle(1, 0.5).withAnswersPause(false);
    try (MigrationFixture f =
        new MigrationFixture(8 * MIB, silent, Duration.ofMillis(300))) {
      PrecopyMigration m = PrecopyMigration.start(f.device, f.options(), p -> {});
      BalloonException e = assertThrows(BalloonException.class, () -> m.await(BOUND));
      assertEquals(Reason.GUEST_UNRESPONSIVE, e.reason());
      assertEquals("migration of g1 failed at stop-and-copy: guest g1 did not answer PAUSE"
          + " within PT0.3S", e.getMessage());
      assertEquals(MigrationPhase.FAILED, m.phase());
      assertLeftClean(f);
      awaitResume(f);
    }
  }

  @Test
  void stopInTheMiddleOfARoundEndsTheThreadBoundedAndCleansUp() throws Exception {
    try (MigrationFixture f =
        new MigrationFixture(16 * MIB, StandInGuest.Behaviour.idle(2, 0.5), PAUSE)) {
      CountDownLatch iterating = new CountDownLatch(1);
      // 1 MiB/s: round 0 alone would take 16 s.
      PrecopyMigration m = PrecopyMigration.start(f.device,
          f.options().withBandwidth(new Bandwidth(MIB)), p -> {
            if (p.phase() == MigrationPhase.ITERATING) {
              iterating.countDown();
            }
          });
      assertTrue(iterating.await(BOUND.toMillis(), TimeUnit.MILLISECONDS));
      assertTrue(m.stop(BOUND), "the migration thread did not end");
      assertEquals(MigrationPhase.CANCELLED, m.phase());
      BalloonException e = assertThrows(BalloonException.class, () -> m.await(BOUND));
      assertEquals(Reason.WRONG_STATE, e.reason());
      assertEquals("migration of g1 was stopped during ITERATING", e.getMessage());
      assertLeftClean(f);
    }
  }

  @Test
  void stopWhileWaitingForPausedResumesTheGuest() throws Exception {
    StandInGuest.Behaviour silent = StandInGuest.Behaviour.idle(3, 0.5).withAnswersPause(false);
    try (MigrationFixture f = new MigrationFixture(8 * MIB, silent, Duration.ofSeconds(60))) {
      PrecopyMigration m = PrecopyMigration.start(f.device,
          f.options().withBandwidth(Bandwidth.UNLIMITED), p -> {});
      long deadline = System.nanoTime() + BOUND.toNanos();
      while (m.phase() != MigrationPhase.STOP_AND_COPY && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertEquals(MigrationPhase.STOP_AND_COPY, m.phase());
      assertTrue(m.stop(BOUND), "an interrupted PAUSE wait must end the thread");
      assertEquals(MigrationPhase.CANCELLED, m.phase());
      assertLeftClean(f);
      awaitResume(f);
    }
  }

  @Test
  void refusesASecondMigrationOfTheSameGuest() throws Exception {
    try (MigrationFixture f =
        new MigrationFixture(8 * MIB, StandInGuest.Behaviour.idle(1, 0.5), PAUSE)) {
      try (PrecopyMigration first = PrecopyMigration.start(f.device,
          f.options().withBandwidth(new Bandwidth(MIB)), p -> {})) {
        BalloonException e = assertThrows(BalloonException.class,
            () -> PrecopyMigration.start(f.device, f.options(), p -> {}));
        assertEquals(Reason.WRONG_STATE, e.reason());
        assertEquals("a migration of guest g1 is already running", e.getMessage());
        assertTrue(first.stop(BOUND));
      }
      assertFalse(f.device.migrating());
    }
  }

  @Test
  void hintingNeedsHostModeMigrateButACompareRunWithoutHintsDoesNot() throws Exception {
    try (MigrationFixture f =
        new MigrationFixture(8 * MIB, StandInGuest.Behaviour.idle(1, 0.5), PAUSE)) {
      f.device.setMode(HostMode.DISCARD);
      BalloonException e = assertThrows(BalloonException.class,
          () -> PrecopyMigration.start(f.device, f.options(), p -> {}));
      assertEquals(Reason.WRONG_STATE, e.reason());
      assertEquals("guest g1 is in host mode discard; a migration with free page hinting needs"
          + " host mode migrate (SetMode), or no hints", e.getMessage());
      assertFalse(f.device.migrating(), "a refused start must not keep the claim");
      MigrationReport r = f.migrate(f.options().withHints(false));
      assertFalse(r.hinting());
      assertEquals(0, r.verification().corruptedPages());
    }
  }

  @Test
  void aGuestWithoutFreePageHintIsMigratedWithoutHintingAsQemuDoes() throws Exception {
    long noHint = VirtioBalloon.bit(VirtioBalloon.VIRTIO_BALLOON_F_STATS_VQ);
    try (MigrationFixture f = new MigrationFixture(8 * MIB,
        StandInGuest.Behaviour.idle(1, 0.5), PAUSE, noHint)) {
      MigrationReport r = f.migrate(f.options());
      assertFalse(r.hinting());
      assertEquals(0, r.transfer().hintCmdIds());
      assertEquals(HintStatus.S_STOP, f.device.hinting().status(), "no notifier ever ran");
      assertEquals(0, r.verification().corruptedPages());
    }
  }

  @Test
  void aGuestThatDetachesDuringItsMigrationEndsItWithGuestNotFound() throws Exception {
    try (MigrationFixture f =
        new MigrationFixture(16 * MIB, StandInGuest.Behaviour.idle(4, 0.5), PAUSE)) {
      CountDownLatch iterating = new CountDownLatch(1);
      PrecopyMigration m = PrecopyMigration.start(f.device,
          f.options().withBandwidth(new Bandwidth(64 * MIB)), p -> iterating.countDown());
      assertTrue(iterating.await(BOUND.toMillis(), TimeUnit.MILLISECONDS));
      f.device.close(); // what SessionRegistry.detach does
      BalloonException e = assertThrows(BalloonException.class, () -> m.await(BOUND));
      assertEquals(Reason.GUEST_NOT_FOUND, e.reason());
      assertEquals("guest g1 detached during its migration", e.getMessage());
      assertFalse(f.device.migrating());
    }
  }

  // The device sends RESUME when a PAUSE goes unanswered or is abandoned; the stand-in handles
  // it on its event thread.
  private static void awaitResume(MigrationFixture f) throws InterruptedException {
    long until = System.nanoTime() + BOUND.toNanos();
    while (f.guest.resumes() == 0 && System.nanoTime() < until) {
      Thread.sleep(5);
    }
    assertEquals(1, f.guest.resumes(), "the guest was told to resume");
  }

  private static void assertLeftClean(MigrationFixture f) throws Exception {
    assertFalse(f.device.migrating(), "claim released");
    assertFalse(f.device.paused(), "guest not left paused");
    assertEquals(HintStatus.S_DONE, f.device.hinting().status(), "DONE sent at cleanup");
    assertTrue(f.device.hinting().relaxations().isEmpty(), "fault injection undone");
    if (Files.isDirectory(f.destinationDir)) {
      try (Stream<?> files = Files.list(f.destinationDir)) {
        assertEquals(0, files.count(), "destination deleted");
      }
    }
  }
}
