package io.hintlab.guest.cli;

import picocli.CommandLine;

/**
 * Turns exceptions thrown by a command into one clear line on stderr and exit code 2 (bad input)
 * or 1 (failure), instead of a stack trace; and picocli's own parameter errors (unknown option,
 * bad value, missing parameter) into one line naming the option and exit code 2, instead of the
 * message followed by the whole usage text. Set {@code HINTLAB_DEBUG=1} to see the trace.
 */
final class CliErrors
    implements CommandLine.IExecutionExceptionHandler, CommandLine.IParameterExceptionHandler {
  @Override
  public int handleExecutionException(
      Exception ex, CommandLine cl, CommandLine.ParseResult parseResult) {
    if (System.getenv("HINTLAB_DEBUG") != null) {
      ex.printStackTrace(cl.getErr());
    }
    String msg = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
    cl.getErr().println(prefix(cl) + oneLine(msg));
    cl.getErr().flush();
    return ex instanceof IllegalArgumentException ? 2 : 1;
  }

  @Override
  public int handleParseException(CommandLine.ParameterException ex, String[] args) {
    CommandLine cl = ex.getCommandLine();
    cl.getErr().println(prefix(cl) + oneLine(ex.getMessage()) + " (see --help)");
    cl.getErr().flush();
    return cl.getCommandSpec().exitCodeOnInvalidInput();
  }

  /** "hintlab guest proc: ". */
  private static String prefix(CommandLine cl) {
    return "hintlab " + cl.getCommandSpec().qualifiedName() + ": ";
  }

  private static String oneLine(String s) {
    return s.strip().replaceAll("\\s*\\R\\s*", "; ");
  }
}
