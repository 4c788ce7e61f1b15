package io.hintlab.host.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of the host process: {@code ./hintlab host|pair|demo|migrate|experiment|bench reclaim}.
 *
 * <p>Subcommands are registered in {@link #commandLine()}; each lives in its own class.
 */
@Command(
    name = "hintlab",
    mixinStandardHelpOptions = true,
    version = "hintlab 0.1.0",
    description = "The hintlab host: a virtio-balloon device emulator and the lab around it.",
    subcommands = {CommandLine.HelpCommand.class})
public final class HostMain implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Builds the command line with every subcommand registered. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new HostMain());
    // Subcommands (one class each) are added here.
    cl.addSubcommand(new HostCommand());
    cl.addSubcommand(new BenchCommand());
    cl.addSubcommand(new PairCommand());
    cl.addSubcommand(new DemoCommand());
    cl.addSubcommand(new MigrateCommand());
    cl.setExecutionExceptionHandler(new CliErrors());
    return cl;
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
