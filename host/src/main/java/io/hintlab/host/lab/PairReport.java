package io.hintlab.host.lab;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The pair's summary table for people: one row per figure, each saying what it measures, so the
 * numbers cannot be misread (host RSS is the guest RAM file's allocated blocks, not a process's
 * resident set).
 */
public final class PairReport {
  private static final String ROW = "  %-21s %14s  %s";

  private PairReport() {}

  /**
   * The table.
   *
   * @param r the result
   * @return its lines, without trailing newlines
   */
  public static List<String> table(PairResult r) {
    PairOptions o = r.options();
    List<String> out = new ArrayList<>();
    out.add(String.format(Locale.ROOT,
        "scenario: %s guest, workload %s, strategy %s, host mode %s, %s, seed %d, %d s",
        ByteSizes.exact(o.memoryBytes()), o.workload(), o.strategy(), o.mode(), o.transport(),
        o.seed(), o.seconds()));
    out.add("");
    out.add(row("measure", "value", "what it measures"));
    out.add(row("guest memory", ByteSizes.human(o.memoryBytes()), "the guest's RAM (--memory)"));
    out.add(row("host RSS at peak", ByteSizes.human(r.rssPeakBytes()),
        "guest RAM file's allocated blocks (st_blocks x 512), highest the host saw"));
    out.add(row("host RSS at end", r.rssEndBytes() < 0 ? "unknown"
        : ByteSizes.human(r.rssEndBytes()),
        "the same, last sample while the guest was attached: "
            + percent(r.rssEndPercentOfPeak()) + " of peak"));
    out.add(row("reported", ByteSizes.human(r.reportedBytes()),
        "in report batches the host acknowledged: " + percent(r.reportedPercentOfMemory())
            + " of guest memory"));
    out.add(row("report batches", Long.toString(r.guest().number("report_batches", 0)),
        "acknowledged (guest count); " + r.guest().number("failed_batches", 0)
            + " failed; the host counted " + r.hostCounter("reports")));
    out.add(row("refaulted pages", Long.toString(r.hostCounter("refaults")),
        "discarded pages the guest wrote again (host dirty log)"));
    out.add(row("races detected", Long.toString(r.hostCounter("races")),
        "guest writes the host saw racing a report or a hint"));
    out.add(row("lost writes", Long.toString(r.guest().number("lost_writes")),
        "pages the guest found zeroed when it read them back (ground truth)"));
    out.add(row("corrupt pages", Long.toString(r.guest().number("corrupt_pages", 0)),
        "pages whose stamp was not what the guest wrote"));
    out.add(row("invariant violations", Long.toString(r.guest().number("invariant_violations")),
        "allocator invariant checker at the end of the run"));
    controls(r, out);
    return out;
  }

  private static void controls(PairResult r, List<String> out) {
    PairOptions o = r.options();
    GuestReport g = r.guest();
    if (!o.balloon().steps().isEmpty()) {
      out.add(row("balloon steps", r.balloonStepsApplied() + " of " + o.balloon().steps().size(),
          "targets set with SetBalloonTarget: " + o.balloon()));
      out.add(row("inflated pages", Long.toString(g.number("inflated_pages", 0)),
          "pages the guest's driver gave the host (inflate queue); deflated "
              + g.number("deflated_pages", 0) + ", on OOM " + g.number("oom_deflated_pages", 0)
              + ", migrated " + g.number("balloon_migrations", 0)));
    }
    if (o.hints().enabled()) {
      out.add(row("hinting rounds", Integer.toString(r.hintRoundsStarted()),
          "StartHinting ... StopHinting(done), " + o.hints()));
      out.add(row("hinted pages", Long.toString(g.number("hinted_pages", 0)),
          "pages in free page hints the guest sent in " + g.number("hint_rounds", 0)
              + " round(s), held until DONE (not counted as reported)"));
    }
    for (String e : r.controlErrors()) {
      out.add("  refused by the host: " + e);
    }
  }

  /**
   * A number in percent with one decimal, or "unknown".
   *
   * @param v the value in percent
   * @return e.g. {@code 16.3%}
   */
  public static String percent(double v) {
    return Double.isNaN(v) ? "unknown" : String.format(Locale.ROOT, "%.1f%%", v);
  }

  private static String row(String what, String value, String meaning) {
    return String.format(Locale.ROOT, ROW, what, value, meaning);
  }
}
