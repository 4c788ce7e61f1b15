package io.hintlab.guest.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of the guest process: {@code ./hintlab guest ...} and {@code ./hintlab bench alloc}.
 *
 * <p>Subcommands are registered in {@link #commandLine()}; each lives in its own class in this
 * package.
 */
@Command(
    name = "guest",
    mixinStandardHelpOptions = true,
    version = "hintlab guest 0.1.0",
    description = "The hintlab guest: a Linux buddy allocator model with a virtio-balloon driver.",
    subcommands = {CommandLine.HelpCommand.class})
public final class GuestMain implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Builds the command line with every subcommand registered. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new GuestMain());
    // Subcommands (one class each) are added here.
    cl.addSubcommand(new BenchCommand());
    cl.addSubcommand(new DemoCommand());
    cl.addSubcommand(new ProcCommand());
    cl.addSubcommand(new RunCommand());
    cl.addSubcommand(new SimCommand());
    CliErrors errors = new CliErrors();
    cl.setExecutionExceptionHandler(errors);
    cl.setParameterExceptionHandler(errors);
    return cl;
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
