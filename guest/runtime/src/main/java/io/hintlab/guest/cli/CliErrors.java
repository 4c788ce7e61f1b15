package io.hintlab.guest.cli;

import picocli.CommandLine;

/**
 * Turns exceptions thrown by a command into one clear line on stderr and exit code 2 (bad input)
 * or 1 (failure), instead of a stack trace. Set {@code HINTLAB_DEBUG=1} to see the trace.
 */
final class CliErrors implements CommandLine.IExecutionExceptionHandler {
  @Override
  public int handleExecutionException(
      Exception ex, CommandLine cl, CommandLine.ParseResult parseResult) {
    if (System.getenv("HINTLAB_DEBUG") != null) {
      ex.printStackTrace(cl.getErr());
    }
    String msg = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
    cl.getErr().println("hintlab " + cl.getCommandName() + ": " + msg);
    return ex instanceof IllegalArgumentException ? 2 : 1;
  }
}
