package io.hintlab.guest.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs one measurement in a fresh JVM ({@code java -Xmx1536m -cp <this classpath> BenchChild}),
 * so that every benchmark starts with its own JIT profile and the build is measured under the
 * issue's heap limit. Output goes to temporary files (no reader threads); the child is killed if
 * it outlives its time limit.
 */
final class ChildJvm {
  private ChildJvm() {}

  /** The command line of a child running {@code kind}. */
  static List<String> command(String kind, AllocBenchParams p) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add(AllocBenchParams.CHILD_XMX);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(BenchChild.class.getName());
    cmd.add(kind);
    cmd.addAll(p.toArgs());
    return cmd;
  }

  /**
   * Runs the child and returns its result pairs.
   *
   * @throws IllegalStateException if the child fails, times out or prints no result
   */
  static Map<String, String> run(String kind, AllocBenchParams p, long timeoutSeconds)
      throws IOException, InterruptedException {
    Path out = Files.createTempFile("hintlab-bench-", ".out");
    Path err = Files.createTempFile("hintlab-bench-", ".err");
    try {
      Process proc = new ProcessBuilder(command(kind, p))
          .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      if (!proc.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        proc.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new IllegalStateException(
            "benchmark " + kind + " did not finish within " + timeoutSeconds + " s");
      }
      String stdout = Files.readString(out, StandardCharsets.UTF_8);
      if (proc.exitValue() != 0) {
        String stderr = Files.readString(err, StandardCharsets.UTF_8).strip();
        throw new IllegalStateException("benchmark " + kind + " failed (exit "
            + proc.exitValue() + "): " + firstLine(stderr.isEmpty() ? stdout : stderr));
      }
      for (String line : stdout.split("\n")) {
        if (line.startsWith(BenchChild.PREFIX + " ")) {
          return parse(line.substring(BenchChild.PREFIX.length() + 1));
        }
      }
      throw new IllegalStateException("benchmark " + kind + " printed no result: "
          + firstLine(stdout.strip()));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  private static Map<String, String> parse(String pairs) {
    Map<String, String> m = new HashMap<>();
    for (String kv : pairs.trim().split(" ")) {
      int eq = kv.indexOf('=');
      m.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    return m;
  }
}
