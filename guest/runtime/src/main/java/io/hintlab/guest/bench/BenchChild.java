package io.hintlab.guest.bench;

import java.util.Arrays;
import java.util.Map;

/**
 * Main class of the child JVM that runs one measurement of {@code bench alloc}: {@code
 * BenchChild KIND key=value...}. Prints one line, {@value #PREFIX} followed by {@code key=value}
 * pairs; exits 1 with a message on stderr on failure.
 */
public final class BenchChild {
  /** Prefix of the result line. */
  static final String PREFIX = "hintlab-bench-result";

  private BenchChild() {}

  /** Runs the measurement named by args[0] with the parameters that follow. */
  public static void main(String[] args) {
    if (args.length < 1) {
      System.err.println("usage: BenchChild KIND key=value...");
      System.exit(2);
    }
    try {
      AllocBenchParams p = AllocBenchParams.fromArgs(Arrays.asList(args).subList(1, args.length));
      Map<String, String> result = AllocBenchmarks.run(args[0], p);
      StringBuilder sb = new StringBuilder(PREFIX);
      result.forEach((k, v) -> sb.append(' ').append(k).append('=').append(v));
      System.out.println(sb);
      System.exit(0);
    } catch (RuntimeException | Error e) {
      System.err.println(args[0] + ": " + e);
      System.exit(1);
    }
  }
}
