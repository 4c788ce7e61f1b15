package io.hintlab.host.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.host.device.HostMode;
import io.hintlab.host.migration.Bandwidth;
import io.hintlab.host.migration.GuardSwitches;
import io.hintlab.proto.v1.CorruptedPage;
import io.hintlab.proto.v1.MigrationReport;
import io.hintlab.proto.v1.MigrationRound;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code migrate}'s result: its JSON fields, the compare figures and the tables. */
class MigrateReportTest {
  private static MigrateOptions options(MigrateHinting h) {
    PairOptions p = new PairOptions(256L << 20, "memhog", "hint-alloc-hold", 4, 1,
        Transport.UNIX, HostMode.MIGRATE, List.of(), BalloonSchedule.none(), HintPlan.none(),
        false, false);
    return MigrateOptions.of(p, new Bandwidth(100L << 20), 30, 300, h, GuardSwitches.ALL_ON, 8, 0);
  }

  private static MigrationReport report(boolean hinting, long normal, long corrupted) {
    MigrationReport.Builder b = MigrationReport.newBuilder()
        .setGuestId("guest-1").setHinting(hinting).setRounds(3).setConverged(true)
        .setBytesSent(normal * 4104 + 100).setNormalPages(normal).setZeroPages(1000)
        .setPagesSkippedByHints(hinting ? 40_000 : 0).setPagesHinted(hinting ? 45_000 : 0)
        .setMigrationMs(700).setDowntimeMs(12).setOwnedPages(9000)
        .setCorruptedPages(corrupted).setDetectorHits(corrupted > 0 ? 1 : 0)
        .setDetectorMisses(corrupted > 0 ? corrupted - 1 : 0).setDetectorFalseAlarms(2)
        .putCorruptedByCause("hint_after_last_write", corrupted)
        .putCorruptedByCause("never_sent", 0)
        .addRoundStats(MigrationRound.newBuilder().setRound(0).setNormalPages(normal)
            .setBytesSent(normal * 4104).setPagesSkippedByHints(hinting ? 40_000 : 0))
        .addRoundStats(MigrationRound.newBuilder().setRound(3).setStopAndCopy(true));
    if (corrupted > 0) {
      b.addCorruptedSamples(CorruptedPage.newBuilder().setPfn(77)
          .setCause("hint_after_last_write").setLastSentRound(-1).setDetected(true));
    }
    return b.build();
  }

  @Test
  void jsonHasTheIssuesFieldsFromThePrimaryRunAndTheWithoutHintsFiguresInCompareMode() {
    MigrateResult r = new MigrateResult(options(MigrateHinting.COMPARE),
        Optional.of(report(true, 5000, 0)), Optional.of(report(false, 50_000, 0)));
    Map<String, Object> m = r.toMap();
    for (String k : List.of("rounds", "bytes_sent", "bytes_sent_without_hints", "normal_pages",
        "zero_pages", "normal_pages_without_hints", "pages_skipped_by_hints", "pages_hinted",
        "migration_ms", "downtime_ms", "corrupted_pages", "detector_hits", "detector_misses",
        "detector_false_alarms")) {
      assertTrue(m.containsKey(k), k);
    }
    assertEquals(5000L, m.get("normal_pages"));
    assertEquals(50_000L, m.get("normal_pages_without_hints"));
    assertEquals(50_000L * 4104 + 100, m.get("bytes_sent_without_hints"));
    assertEquals(10.0, m.get("normal_pages_percent_of_without_hints"));
    assertEquals(40_000L, m.get("pages_skipped_by_hints"));
    assertEquals("compare", m.get("hinting_mode"));
    assertEquals(2, ((List<?>) m.get("round_stats")).size());
    assertEquals(false, ((Map<?, ?>) m.get("without_hints")).get("hinting"));
  }

  @Test
  void aSingleRunHasNoWithoutHintsFields() {
    MigrateResult r = new MigrateResult(options(MigrateHinting.OFF), Optional.empty(),
        Optional.of(report(false, 50_000, 0)));
    Map<String, Object> m = r.toMap();
    assertEquals(false, m.get("hinting"));
    assertEquals(50_000L, m.get("normal_pages"));
    assertFalse(m.containsKey("normal_pages_without_hints"));
    assertFalse(m.containsKey("without_hints"));
    assertTrue(Double.isNaN(r.normalPagesPercentOfWithoutHints()));
  }

  @Test
  void aResultWithoutAnyRunIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new MigrateResult(
        options(MigrateHinting.ON), Optional.empty(), Optional.empty()));
  }

  @Test
  void theCompareTableShowsBothRunsSideBySideAndTheirRounds() {
    MigrateResult r = new MigrateResult(options(MigrateHinting.COMPARE),
        Optional.of(report(true, 5000, 0)), Optional.of(report(false, 50_000, 0)));
    List<String> t = MigrateReport.table(r);
    String all = String.join("\n", t);
    assertTrue(t.getFirst().startsWith("scenario: 256M guest, workload memhog, strategy "
        + "hint-alloc-hold, seed 4, unix; migrated 8 s after the attach at 100.0 MiB/s"), all);
    String header = t.stream().filter(l -> l.contains("measure")).findFirst().orElseThrow();
    assertTrue(header.contains("with hints") && header.contains("without hints"), header);
    String normal = t.stream().filter(l -> l.startsWith("  normal pages ")).findFirst()
        .orElseThrow();
    assertTrue(normal.matches("\\s+normal pages\\s+5000\\s+50000\\s+pages sent with.*"), normal);
    assertTrue(all.contains("normal pages with hints: 10.0% of those without"), all);
    assertTrue(all.contains("rounds with hints:") && all.contains("rounds without hints:"), all);
    assertTrue(all.contains("stop+copy"), all);
    assertTrue(all.contains("with hints: destination verified, all 9000 owned pages identical"),
        all);
  }

  @Test
  void corruptionIsSaidPlainlyWithItsCauses() {
    MigrateResult r = new MigrateResult(options(MigrateHinting.ON),
        Optional.of(report(true, 5000, 3)), Optional.empty());
    List<String> t = MigrateReport.table(r);
    assertEquals("with hints: CORRUPTED: 3 of 9000 owned pages differ at the destination "
        + "(by cause: {hint_after_last_write=3})", t.getLast());
    assertFalse(String.join("\n", t).contains("without hints"));
    assertEquals(3L, r.corruptedPages());
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> samples =
        (List<Map<String, Object>>) r.toMap().get("corrupted_samples");
    assertEquals(77L, samples.getFirst().get("pfn"));
    assertEquals(true, samples.getFirst().get("detected"));
  }

  @Test
  void ratesAreShownInMibPerSecondOrUnlimited() {
    assertEquals("unlimited", MigrateReport.rate(0));
    assertEquals("100.0 MiB/s", MigrateReport.rate(100L << 20));
  }
}
