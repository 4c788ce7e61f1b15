package io.hintlab.guest.cli;

import io.hintlab.guest.demo.ModelDemo;
import io.hintlab.guest.mm.MmConfig;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code hintlab demo}: for now the allocator model alone on the fragment workload. */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
      "Run the allocator model on the fragment workload and show /proc/buddyinfo before and "
          + "after, with a summary: free pages, fallbacks, failed allocations.",
      "(Until the guest/host pair exists the demo is the allocator model alone.)"})
final class DemoCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--json", description = "Print one JSON object.")
  boolean json;

  @Option(names = "--memory", paramLabel = "SIZE", defaultValue = "1G",
      converter = Sizes.Converter.class,
      description = "Guest RAM (default: ${DEFAULT-VALUE}).")
  long memory;

  @Option(names = "--cpus", paramLabel = "N", defaultValue = "2",
      description = "Modelled cpus, each with its own per-cpu lists (default: ${DEFAULT-VALUE}).")
  int cpus;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
      description = "Seed of the workload (default: ${DEFAULT-VALUE}).")
  long seed;

  @Override
  public Integer call() {
    ModelOptions.checkCpus(cpus);
    MmConfig cfg;
    try {
      cfg = MmConfig.builder().memory(memory).nrCpus(cpus).build();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--memory: " + e.getMessage(), e);
    }
    ModelDemo.Result r = ModelDemo.run(cfg, seed);
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(JsonOut.write(r.toMap()));
    } else {
      printText(out, r);
    }
    out.flush();
    return 0;
  }

  private static void printText(PrintWriter out, ModelDemo.Result r) {
    out.printf("hintlab demo: the allocator model alone (the guest/host pair comes later): "
        + "%s guest, %d cpus, fragment workload%n%n", Sizes.format(r.memoryBytes()), r.cpus());
    out.println("/proc/buddyinfo at boot:");
    out.print(r.before().buddyinfo());
    out.println();
    out.println(r.workload().summary());
    out.println();
    out.println("/proc/buddyinfo after:");
    out.print(r.after().buddyinfo());
    out.println();
    out.printf("%-34s %12s %12s%n", "", "at boot", "after");
    out.printf("%-34s %12d %12d%n", "free pages", r.before().freePages(),
        r.after().freePages());
    out.printf("%-34s %12d %12d%n", "  of which in whole pageblocks",
        r.before().freePagesInPageblocks(), r.after().freePagesInPageblocks());
    out.printf("%-34s %12s %12d%n", "fallbacks to other migratetypes", "0", r.fallbacks());
    out.printf("%-34s %12s %12d%n", "  of which fragmenting", "0", r.fragmentingFallbacks());
    out.printf("%-34s %12s %12d%n", "failed allocations", "0", r.allocFailures());
  }
}
