package io.hintlab.host.cli;

import io.hintlab.host.lab.DemoScenario;
import io.hintlab.host.lab.DemoScenario.Verdict;
import io.hintlab.host.lab.LabCommands;
import io.hintlab.host.lab.PairResult;
import io.hintlab.host.lab.PairRun;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hintlab demo}: {@code pair} on the embedded default scenario ({@link DemoScenario}),
 * with a verdict line per condition after the table. Exit code 0 when every condition holds, 1
 * when one fails or the run failed.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
      "Run a host and a 1 GiB guest as separate processes for " + DemoScenario.SECONDS
          + " s: the idle workload writes 30%% of the memory, frees it and stays idle while "
          + "free page reporting (page-reporting, Linux's defaults) reports the free memory "
          + "and the host discards it. Ends with a summary table and four verdicts: host RSS "
          + "at the end under a third of its peak, reported bytes at least half the guest "
          + "memory, no lost write, no invariant violation."})
final class DemoCommand implements Callable<Integer> {

  @Option(names = "--json", description = "Print one JSON object instead of the table.")
  boolean json;

  @Option(names = "--progress", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Draw a progress bar on stderr (default: on).")
  boolean progress;

  @Option(names = "--keep-logs",
      description = "Keep the host's and the guest's logs after a successful run.")
  boolean keepLogs;

  @Override
  public Integer call() throws Exception {
    LabCommands commands = LabCommands.fromEnvironment(System.getenv());
    PairResult r = new PairRun(DemoScenario.options(progress, keepLogs), commands, System.err,
        "demo").run();
    List<Verdict> verdicts = DemoScenario.verdicts(r);
    PairOutput.print(r, json, verdicts, System.out);
    r.problem().ifPresent(p -> System.err.println("hintlab demo: " + p));
    boolean ok = r.exitCode() == 0 && verdicts.stream().allMatch(Verdict::ok);
    return ok ? 0 : 1;
  }
}
