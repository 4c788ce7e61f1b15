package io.hintlab.guest.cli;

import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.workload.Workload;
import io.hintlab.guest.workload.WorkloadResult;
import io.hintlab.guest.workload.Workloads;
import picocli.CommandLine.Option;

/** Options that choose a workload to run on the model: --workload, --seed, --ops. */
final class WorkloadOptions {
  @Option(names = "--workload", paramLabel = "NAME",
      description = "Run a workload on the model first: fragment, mixed or idle.")
  String workload;

  @Option(names = "--seed", paramLabel = "N",
      description = "Seed of the workload (default: 1).")
  Long seed;

  @Option(names = "--ops", paramLabel = "N",
      description = "The workload's amount of work (0 = its default): fragment: fill "
          + "allocations; mixed: steps; idle: working-set allocations.")
  Long ops;

  /** Checks the combination; call before building anything. */
  void check() {
    if (workload == null && (seed != null || ops != null)) {
      throw new IllegalArgumentException(
          (seed != null ? "--seed" : "--ops") + " needs --workload");
    }
    if (ops != null && ops < 0) {
      throw new IllegalArgumentException("--ops must be >= 0, got " + ops);
    }
    if (workload != null && !Workloads.names().contains(workload)) {
      throw new IllegalArgumentException("--workload: unknown workload '" + workload
          + "': expected one of " + String.join(", ", Workloads.names()));
    }
  }

  /** Runs the chosen workload on pa, or returns null when none was chosen. */
  WorkloadResult runOn(PageAllocator pa) {
    if (workload == null) {
      return null;
    }
    Workload w = Workloads.create(workload, pa, seed == null ? 1 : seed);
    return w.run(ops == null ? 0 : ops);
  }
}
