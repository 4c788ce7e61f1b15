package io.hintlab.host.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code hintlab host serve|status}. */
@Command(name = "host", mixinStandardHelpOptions = true,
    description = "Run or query the host (the virtio-balloon device emulator).",
    subcommands = {ServeCommand.class, StatusCommand.class})
final class HostCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
