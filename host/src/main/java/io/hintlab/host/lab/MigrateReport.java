package io.hintlab.host.lab;

import io.hintlab.proto.v1.MigrationReport;
import io.hintlab.proto.v1.MigrationRound;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * {@code migrate}'s tables for people: a summary with one row per figure (a column per run, and
 * what the figure measures), then each run's rounds. Simulated times are link times at the
 * bandwidth, so the table says which figures are simulated and which are wall-clock.
 * Corruption is a result, not an error: the table's last lines say plainly whether the
 * destination copy matched.
 */
public final class MigrateReport {
  private static final String ROUND = "  %5s %-8s %10s %10s %12s %10s %10s %10s";

  private MigrateReport() {}

  /** A summary row: its label, its value in a run, and what it measures. */
  private record Row(String label, Function<MigrationReport, String> value, String meaning) {}

  /**
   * The tables.
   *
   * @param r the result
   * @return their lines, without trailing newlines
   */
  public static List<String> table(MigrateResult r) {
    List<String> out = new ArrayList<>();
    out.add(scenario(r.options()));
    out.add("");
    List<Optional<MigrationReport>> runs = List.of(r.withHints(), r.withoutHints());
    List<String> names = List.of("with hints", "without hints");
    List<MigrationReport> made = new ArrayList<>();
    List<String> heads = new ArrayList<>();
    for (int i = 0; i < runs.size(); i++) {
      if (runs.get(i).isPresent()) {
        made.add(runs.get(i).get());
        heads.add(names.get(i));
      }
    }
    out.add(summaryLine("measure", heads, "what it measures"));
    for (Row row : rows()) {
      out.add(summaryLine(row.label(), made.stream().map(row.value()).toList(), row.meaning()));
    }
    if (r.compared()) {
      out.add(String.format(Locale.ROOT, "  normal pages with hints: %s of those without",
          PairReport.percent(r.normalPagesPercentOfWithoutHints())));
    }
    for (int i = 0; i < made.size(); i++) {
      out.add("");
      out.add("rounds " + heads.get(i) + ":");
      out.addAll(rounds(made.get(i)));
    }
    out.add("");
    for (int i = 0; i < made.size(); i++) {
      out.add(verdict(heads.get(i), made.get(i)));
    }
    return out;
  }

  private static String scenario(MigrateOptions o) {
    PairOptions p = o.pair();
    return String.format(Locale.ROOT,
        "scenario: %s guest, workload %s, strategy %s, seed %d, %s; migrated %d s after the "
            + "attach at %s, at most %d rounds, downtime target %d ms, %s%s",
        ByteSizes.exact(p.memoryBytes()), p.workload(), p.strategy(), p.seed(), p.transport(),
        o.migrateAfterSeconds(), rate(o.bandwidth().bytesPerSecond()), o.maxRounds(),
        o.downtimeLimitMs(), o.guards(), o.hintDelayMs() == 0 ? ""
            : ", hint requests delayed " + o.hintDelayMs() + " ms");
  }

  private static List<Row> rows() {
    return List.of(
        new Row("rounds", m -> m.getRounds() + (m.getConverged() ? "" : " (max)"),
            "pre-copy rounds, round 0 included, stop-and-copy not; (max): forced switch-over"),
        new Row("bytes sent", m -> ByteSizes.human(m.getBytesSent()),
            "put on the link over every round, page headers included"),
        new Row("normal pages", m -> Long.toString(m.getNormalPages()),
            "pages sent with their content"),
        new Row("zero pages", m -> Long.toString(m.getZeroPages()),
            "pages sent as zero pages (all-zero content or RAM-file holes)"),
        new Row("skipped by hints", m -> Long.toString(m.getPagesSkippedByHints()),
            "migration-bitmap bits hints cleared while set: sends saved"),
        new Row("pages hinted", m -> Long.toString(m.getPagesHinted()),
            "pages in the hinted ranges the migration applied"),
        new Row("migration time", m -> m.getMigrationMs() + " ms",
            "simulated: link time of every byte sent at the bandwidth"),
        new Row("downtime", m -> m.getDowntimeMs() + " ms",
            "simulated stop-and-copy link time + real pause handshake"),
        new Row("wall time", m -> m.getWallMs() + " ms",
            "real: opening source and destination to resuming the guest"),
        new Row("owned pages", m -> Long.toString(m.getOwnedPages()),
            "pages the paused guest said hold its data (all verified)"),
        new Row("corrupted pages", m -> Long.toString(m.getCorruptedPages()),
            "owned pages whose destination copy differs from the source"),
        new Row("detector hits", m -> Long.toString(m.getDetectorHits()),
            "corrupted pages the race detector had flagged"),
        new Row("detector misses", m -> Long.toString(m.getDetectorMisses()),
            "corrupted pages it had not flagged"),
        new Row("false alarms", m -> Long.toString(m.getDetectorFalseAlarms()),
            "flagged pages that were not corrupted"));
  }

  private static List<String> rounds(MigrationReport m) {
    List<String> out = new ArrayList<>();
    out.add(String.format(Locale.ROOT, ROUND, "round", "phase", "normal", "zero",
        "bytes sent", "skipped", "dirtied", "left"));
    for (MigrationRound s : m.getRoundStatsList()) {
      out.add(String.format(Locale.ROOT, ROUND, s.getRound(),
          s.getStopAndCopy() ? "stop+copy" : "pre-copy", s.getNormalPages(), s.getZeroPages(),
          ByteSizes.human(s.getBytesSent()), s.getPagesSkippedByHints(),
          s.getDirtyPagesSynced(), s.getRemainingPages()));
    }
    out.add("  (skipped: pages hints saved in the round; dirtied: pages the sync that ended it "
        + "found written; left: pages to send after it)");
    return out;
  }

  /**
   * The line that says whether the destination matched.
   *
   * @param run the run's name
   * @param m its report
   */
  static String verdict(String run, MigrationReport m) {
    if (m.getCorruptedPages() == 0) {
      return String.format(Locale.ROOT, "%s: destination verified, all %d owned pages identical",
          run, m.getOwnedPages());
    }
    Map<String, Long> causes = new TreeMap<>();
    m.getCorruptedByCauseMap().forEach((k, v) -> {
      if (v > 0) {
        causes.put(k, v);
      }
    });
    return String.format(Locale.ROOT,
        "%s: CORRUPTED: %d of %d owned pages differ at the destination (by cause: %s)", run,
        m.getCorruptedPages(), m.getOwnedPages(), causes);
  }

  /**
   * A link rate for people.
   *
   * @param bytesPerSecond the rate, 0 for unlimited
   * @return e.g. {@code 100.0 MiB/s} or {@code unlimited}
   */
  public static String rate(long bytesPerSecond) {
    return bytesPerSecond == 0 ? "unlimited" : ByteSizes.human(bytesPerSecond) + "/s";
  }

  private static String summaryLine(String label, List<String> values, String meaning) {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "  %-17s", label));
    for (String v : values) {
      sb.append(String.format(Locale.ROOT, " %14s", v));
    }
    return sb.append("  ").append(meaning).toString();
  }
}
