package io.hintlab.host.lab;

import io.hintlab.proto.v1.MigrationReport;
import io.hintlab.proto.v1.MigrationRound;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What a {@code migrate} measured: the host's report of each run made (field names as in
 * control.proto's MigrationReport).
 *
 * @param options the scenario
 * @param withHints the run with free page hinting, if {@code --hinting} made one
 * @param withoutHints the run without, if {@code --hinting} made one
 */
public record MigrateResult(
    MigrateOptions options,
    Optional<MigrationReport> withHints,
    Optional<MigrationReport> withoutHints) {

  /**
   * Checks that a run was made.
   *
   * @throws IllegalArgumentException if neither run is present
   */
  public MigrateResult {
    if (withHints.isEmpty() && withoutHints.isEmpty()) {
      throw new IllegalArgumentException("a migrate result needs at least one run");
    }
  }

  /** The run the top-level figures describe: with hints if made, else without. */
  public MigrationReport primary() {
    return withHints.orElseGet(withoutHints::orElseThrow);
  }

  /** Whether both runs were made. */
  public boolean compared() {
    return withHints.isPresent() && withoutHints.isPresent();
  }

  /** Corrupted pages over every run (a result, not an error). */
  public long corruptedPages() {
    return withHints.map(MigrationReport::getCorruptedPages).orElse(0L)
        + withoutHints.map(MigrationReport::getCorruptedPages).orElse(0L);
  }

  /**
   * Normal pages sent with hints in percent of those sent without, or NaN unless compared.
   *
   * @return e.g. 12.5
   */
  public double normalPagesPercentOfWithoutHints() {
    if (!compared() || withoutHints.get().getNormalPages() == 0) {
      return Double.NaN;
    }
    return 100.0 * withHints.get().getNormalPages() / withoutHints.get().getNormalPages();
  }

  /**
   * The result as {@code migrate --json} prints it: the scenario, the primary run's figures at
   * the top level, and in compare mode the {@code *_without_hints} figures and that run's whole
   * map under {@code without_hints}.
   *
   * @return an ordered map
   */
  public Map<String, Object> toMap() {
    PairOptions p = options.pair();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("guest_memory_bytes", p.memoryBytes());
    m.put("workload", p.workload());
    m.put("strategy", p.strategy());
    m.put("seed", p.seed());
    m.put("transport", p.transport().toString());
    m.put("guest_args", p.guestArgs());
    m.put("migrate_after_seconds", options.migrateAfterSeconds());
    m.put("hint_delay_ms", options.hintDelayMs());
    m.put("hinting_mode", options.hinting().toString());
    m.putAll(runMap(primary()));
    if (compared()) {
      MigrationReport w = withoutHints.get();
      m.put("rounds_without_hints", w.getRounds());
      m.put("bytes_sent_without_hints", w.getBytesSent());
      m.put("normal_pages_without_hints", w.getNormalPages());
      m.put("zero_pages_without_hints", w.getZeroPages());
      m.put("migration_ms_without_hints", w.getMigrationMs());
      m.put("downtime_ms_without_hints", w.getDowntimeMs());
      m.put("corrupted_pages_without_hints", w.getCorruptedPages());
      double pct = normalPagesPercentOfWithoutHints();
      m.put("normal_pages_percent_of_without_hints",
          Double.isNaN(pct) ? null : Math.round(pct * 10) / 10.0);
      m.put("without_hints", runMap(w));
    }
    return m;
  }

  /** One run's figures, in control.proto's names. */
  static Map<String, Object> runMap(MigrationReport r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("hinting", r.getHinting());
    m.put("guards_off", List.copyOf(r.getGuardsOffList()));
    m.put("bandwidth_bytes_per_sec", r.getBandwidthBytesPerSec());
    m.put("downtime_limit_ms", r.getDowntimeLimitMs());
    m.put("max_rounds", r.getMaxRounds());
    m.put("rounds", r.getRounds());
    m.put("converged", r.getConverged());
    m.put("bytes_sent", r.getBytesSent());
    m.put("normal_pages", r.getNormalPages());
    m.put("zero_pages", r.getZeroPages());
    m.put("hole_pages", r.getHolePages());
    m.put("pages_skipped_by_hints", r.getPagesSkippedByHints());
    m.put("pages_hinted", r.getPagesHinted());
    m.put("hinted_before_reached", r.getHintedBeforeReached());
    m.put("hint_cmd_ids", r.getHintCmdIds());
    m.put("hint_pages_ignored", r.getHintPagesIgnored());
    m.put("migration_ms", r.getMigrationMs());
    m.put("downtime_ms", r.getDowntimeMs());
    m.put("pause_ms", r.getPauseMs());
    m.put("wall_ms", r.getWallMs());
    m.put("owned_pages", r.getOwnedPages());
    m.put("corrupted_pages", r.getCorruptedPages());
    m.put("corrupted_by_cause", new TreeMap<>(r.getCorruptedByCauseMap()));
    m.put("detector_flagged_pages", r.getDetectorFlaggedPages());
    m.put("detector_hits", r.getDetectorHits());
    m.put("detector_misses", r.getDetectorMisses());
    m.put("detector_false_alarms", r.getDetectorFalseAlarms());
    m.put("round_stats", rounds(r));
    m.put("corrupted_samples", samples(r));
    return m;
  }

  private static List<Object> rounds(MigrationReport r) {
    List<Object> out = new ArrayList<>();
    for (MigrationRound s : r.getRoundStatsList()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("round", s.getRound());
      m.put("stop_and_copy", s.getStopAndCopy());
      m.put("normal_pages", s.getNormalPages());
      m.put("zero_pages", s.getZeroPages());
      m.put("hole_pages", s.getHolePages());
      m.put("bytes_sent", s.getBytesSent());
      m.put("link_ns", s.getLinkNs());
      m.put("pages_skipped_by_hints", s.getPagesSkippedByHints());
      m.put("dirty_pages_synced", s.getDirtyPagesSynced());
      m.put("remaining_pages", s.getRemainingPages());
      out.add(m);
    }
    return out;
  }

  private static List<Object> samples(MigrationReport r) {
    List<Object> out = new ArrayList<>();
    for (var c : r.getCorruptedSamplesList()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("pfn", c.getPfn());
      m.put("cause", c.getCause());
      m.put("last_sent_round", c.getLastSentRound());
      m.put("last_hint_cmd_id", c.getLastHintCmdId());
      m.put("detected", c.getDetected());
      out.add(m);
    }
    return out;
  }
}
