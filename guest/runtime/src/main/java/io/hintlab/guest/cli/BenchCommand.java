package io.hintlab.guest.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code hintlab bench alloc} (bench reclaim belongs to the host). */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmarks of the guest allocator model.",
    subcommands = {AllocBenchCommand.class})
final class BenchCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
