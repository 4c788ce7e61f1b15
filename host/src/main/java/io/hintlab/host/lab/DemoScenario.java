package io.hintlab.host.lab;

import io.hintlab.host.device.HostMode;
import java.util.List;
import java.util.Locale;

/**
 * {@code ./hintlab demo}: the pair on the embedded default scenario (DESIGN §7), a 1 GiB guest
 * on the {@code idle} workload with {@code page-reporting} (Linux's defaults: 2 s delay, batches
 * of 32, a budget of 1/16 of each free list per pass) and a host that discards what is reported,
 * judged on four conditions.
 *
 * <p><b>Why these numbers.</b> The idle workload writes a working set of 30 % of the guest's
 * memory, frees it and stays idle. Measured on 2 cores (three runs): the host RSS peaks at about
 * 310 MiB within 1 s of the attach, and reporting (4 passes, 9 batches, 950 MiB) brings it to its
 * floor of about 48 MiB (16 % of the peak: the guest's kernel allocations and pages on per-cpu
 * lists) within 4 s; the whole demo takes about 45 s. {@value #SECONDS} s lets the table show a
 * floor that held for half a minute, not a lucky sample, and leaves reporting ten times the time
 * it needs on a busier machine; {@code --idle-seconds} as long as the run keeps it to one round,
 * so the working set is not written again just before the end.
 */
public final class DemoScenario {
  /** The guest's memory. */
  public static final long MEMORY = 1L << 30;

  /** How long the guest runs. */
  public static final long SECONDS = 40;

  /** The workload. */
  public static final String WORKLOAD = "idle";

  /** The reporting strategy. */
  public static final String STRATEGY = "page-reporting";

  /** The guest options beyond the pair's own: one round, idle until the end. */
  static final List<String> GUEST_ARGS = List.of("--idle-seconds=" + SECONDS);

  private DemoScenario() {}

  /**
   * One condition judged on the result.
   *
   * @param condition what is required, e.g. {@code host RSS at end < 1/3 of peak}
   * @param line the line printed under the table, with the measured value
   * @param ok whether it holds
   */
  public record Verdict(String condition, String line, boolean ok) {}

  /**
   * The demo's scenario.
   *
   * @param progress whether to draw the progress bar
   * @param keepLogs whether to keep the logs of a successful run
   * @return the options
   */
  public static PairOptions options(boolean progress, boolean keepLogs) {
    return new PairOptions(MEMORY, WORKLOAD, STRATEGY, 1, SECONDS, Transport.UNIX,
        HostMode.DISCARD, GUEST_ARGS, BalloonSchedule.none(), HintPlan.none(), progress,
        keepLogs);
  }

  /**
   * The four conditions: host RSS at the end under a third of its peak, reported bytes at least
   * half the guest memory, no lost write, no invariant violation.
   *
   * @param r the result
   * @return the verdicts, in that order
   */
  public static List<Verdict> verdicts(PairResult r) {
    long peak = r.rssPeakBytes();
    long end = r.rssEndBytes();
    long lost = r.guest().number("lost_writes");
    long violations = r.guest().number("invariant_violations");
    return List.of(
        verdict("host RSS at end < 1/3 of peak", String.format(Locale.ROOT,
            "host RSS at end %s of peak (< 33.3%%)", PairReport.percent(r.rssEndPercentOfPeak())),
            end >= 0 && peak > 0 && end * 3 < peak),
        verdict("reported bytes >= 1/2 of guest memory", String.format(Locale.ROOT,
            "reported %s of guest memory (>= 50%%)",
            PairReport.percent(r.reportedPercentOfMemory())),
            r.reportedBytes() * 2 >= r.options().memoryBytes()),
        verdict("lost writes = 0", "lost writes " + lost + " (= 0)", lost == 0),
        verdict("invariant violations = 0", "invariant violations " + violations + " (= 0)",
            violations == 0));
  }

  private static Verdict verdict(String condition, String measured, boolean ok) {
    return new Verdict(condition, measured + ": " + (ok ? "ok" : "FAILED"), ok);
  }
}
