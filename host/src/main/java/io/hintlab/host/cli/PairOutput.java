package io.hintlab.host.cli;

import io.hintlab.host.lab.DemoScenario.Verdict;
import io.hintlab.host.lab.PairReport;
import io.hintlab.host.lab.PairResult;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Prints a pair's result: the summary table (and verdict lines), or one JSON object. */
final class PairOutput {
  private PairOutput() {}

  /**
   * Prints {@code r} on {@code out}.
   *
   * @param r the result
   * @param json one JSON object instead of the table
   * @param verdicts conditions judged on the result (the demo's), printed after the table or
   *     under {@code verdicts} in the JSON; empty for none
   * @param out stdout
   */
  static void print(PairResult r, boolean json, List<Verdict> verdicts, PrintStream out) {
    if (json) {
      Map<String, Object> m = new LinkedHashMap<>(r.toMap());
      if (!verdicts.isEmpty()) {
        List<Object> vs = new ArrayList<>();
        for (Verdict v : verdicts) {
          Map<String, Object> one = new LinkedHashMap<>();
          one.put("condition", v.condition());
          one.put("ok", v.ok());
          vs.add(one);
        }
        m.put("verdicts", vs);
        m.put("ok", r.exitCode() == 0 && verdicts.stream().allMatch(Verdict::ok));
      }
      out.println(JsonOut.write(m));
    } else {
      PairReport.table(r).forEach(out::println);
      if (!verdicts.isEmpty()) {
        out.println();
        verdicts.forEach(v -> out.println(v.line()));
      }
    }
    out.flush();
  }
}
