package io.hintlab.guest.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Runs {@link GuestMain#commandLine()} in-process with captured stdout and stderr. */
final class Cli {
  /** Exit code, stdout and stderr of one run. */
  record Run(int code, String out, String err) {}

  private Cli() {}

  static Run run(String... args) {
    CommandLine cl = GuestMain.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Run(code, out.toString(), err.toString());
  }
}
