package io.hintlab.host.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code hintlab bench reclaim} (bench alloc belongs to the guest launcher). */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmarks of the host.", subcommands = {ReclaimCommand.class})
final class BenchCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
