package io.hintlab.host.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The guards of free page hinting against a stand-in guest that keeps writing pages whose hints
 * are still on their way to the device (free-list-walk hinting with a lagging device: the
 * Firecracker-style race). With every guard on no page may be lost; with any one guard off,
 * pages are lost for some seed and blamed on the right cause, and the detector sees each.
 */
class HintingGuardsTest {
  private static final long MEMORY = 16L << 20;
  private static final int SEEDS = 10;
  private static final Duration PAUSE = Duration.ofSeconds(5);

  // 256 MiB/s, downtime 0, 100 rounds: ~2 ms rounds that never converge while the guest runs.
  private static MigrationOptions racing(MigrationFixture f, GuardSwitches guards) {
    return f.options().withBandwidth(new Bandwidth(256L << 20)).withDowntimeLimitMs(0)
        .withMaxRounds(100).withGuards(guards);
  }

  @Test
  void everyGuardOnLosesNoPageWhileTheGuestWritesPagesWithHintsInFlight() throws Exception {
    for (long seed = 1; seed <= SEEDS; seed++) {
      try (MigrationFixture f =
          new MigrationFixture(MEMORY, StandInGuest.Behaviour.racy(seed), PAUSE)) {
        MigrationReport r = f.migrate(racing(f, GuardSwitches.ALL_ON));
        Verification v = r.verification();
        assertNull(f.guest.failure(), "seed " + seed);
        assertTrue(f.guest.racedWrites() > 0, "seed " + seed + ": the race never happened");
        assertTrue(r.transfer().pagesHinted() > 0, "seed " + seed + ": nothing was hinted");
        assertTrue(v.ownedPages() > 0, "seed " + seed);
        assertEquals(0, v.corruptedPages(), "seed " + seed + ": " + v.samples());
        assertEquals(0, v.detectorFlaggedPages(),
            "seed " + seed + ": no hint may cross a sync with every guard on");
      }
    }
  }

  static Stream<Arguments> guardsOff() {
    return Stream.of(
        Arguments.of(GuardSwitches.APPLY_HINTS_ACROSS_SYNC, CorruptionCause.HINT_AFTER_LAST_WRITE),
        Arguments.of(GuardSwitches.ACCEPT_STALE_IDS, CorruptionCause.STALE_ID_ACCEPTED),
        Arguments.of(GuardSwitches.NO_STOP_BEFORE_SYNC, CorruptionCause.HINT_AFTER_LAST_WRITE));
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @MethodSource("guardsOff")
  void eachGuardOffLosesPagesBlamedOnItsCauseAndSeenByTheDetector(
      String guardOff, CorruptionCause cause) throws Exception {
    GuardSwitches guards = GuardSwitches.parse(List.of(guardOff));
    long lostIn = -1;
    for (long seed = 1; seed <= SEEDS && lostIn < 0; seed++) {
      try (MigrationFixture f =
          new MigrationFixture(MEMORY, StandInGuest.Behaviour.racy(seed), PAUSE)) {
        MigrationReport r = f.migrate(racing(f, guards));
        Verification v = r.verification();
        String where = guardOff + " off, seed " + seed + ": " + v.byCause();
        assertNull(f.guest.failure(), where);
        assertEquals(v.corruptedPages(), v.corrupted(cause), where);
        assertEquals(0, v.detectorMisses(), where);
        assertEquals(v.corruptedPages(), v.detectorHits(), where);
        for (CorruptedPage p : v.samples()) {
          assertTrue(p.detected(), where + ": " + p);
          assertTrue(p.lastHintId() != 0, where + ": " + p);
        }
        if (v.corruptedPages() > 0) {
          lostIn = seed;
        }
      }
    }
    assertTrue(lostIn > 0, "no seed in 1.." + SEEDS + " lost a page with " + guardOff + " off");
  }
}
