package io.hintlab.guest.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parameters of {@code bench alloc}.
 *
 * @param memoryBytes guest size of the throughput benchmarks
 * @param ring live pages of the order-0 ring (a power of two)
 * @param seed seed of the mixed workload
 * @param warmups warm-up iterations per throughput benchmark
 * @param iterations measured iterations per throughput benchmark
 * @param iterationMs length of one iteration
 * @param buildMemoryBytes guest size of the build measurement (256 GiB in the target)
 * @param buildRuns builds measured (each from nothing, the previous one unreachable)
 * @param fork run each benchmark in a fresh child JVM with {@link #CHILD_XMX}
 */
public record AllocBenchParams(
    long memoryBytes, int ring, long seed, int warmups, int iterations, long iterationMs,
    long buildMemoryBytes, int buildRuns, boolean fork) {

  /** The heap limit of the child JVMs: the issue asks for a 256 GiB model in under 1.5 GiB. */
  public static final String CHILD_XMX = "-Xmx1536m";

  /** Validates the ranges. */
  public AllocBenchParams {
    check(memoryBytes >= 16L << 20 && memoryBytes <= 1L << 40, "memory", "[16 MiB, 1 TiB]",
        memoryBytes);
    check(ring >= 1 && ring <= 65536 && Integer.bitCount(ring) == 1, "ring",
        "a power of two in [1, 65536]", ring);
    check(warmups >= 0 && warmups <= 1000, "warmups", "[0, 1000]", warmups);
    check(iterations >= 1 && iterations <= 1000, "iterations", "[1, 1000]", iterations);
    check(iterationMs >= 1 && iterationMs <= 60_000, "iteration-ms", "[1, 60000]", iterationMs);
    check(buildMemoryBytes >= 16L << 20 && buildMemoryBytes <= 1L << 40, "build-memory",
        "[16 MiB, 1 TiB]", buildMemoryBytes);
    check(buildRuns >= 1 && buildRuns <= 100, "build-runs", "[1, 100]", buildRuns);
  }

  private static void check(boolean ok, String option, String range, long value) {
    if (!ok) {
      throw new IllegalArgumentException("--" + option + " must be " + range + ", got " + value);
    }
  }

  /** The parameters as {@code key=value} arguments for a child JVM. */
  List<String> toArgs() {
    List<String> out = new ArrayList<>();
    toMap().forEach((k, v) -> out.add(k + "=" + v));
    return out;
  }

  private Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("memoryBytes", memoryBytes);
    m.put("ring", ring);
    m.put("seed", seed);
    m.put("warmups", warmups);
    m.put("iterations", iterations);
    m.put("iterationMs", iterationMs);
    m.put("buildMemoryBytes", buildMemoryBytes);
    m.put("buildRuns", buildRuns);
    return m;
  }

  /** Parses what {@link #toArgs} wrote (in a child, which never forks again). */
  static AllocBenchParams fromArgs(List<String> args) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String a : args) {
      int eq = a.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("expected key=value, got '" + a + "'");
      }
      m.put(a.substring(0, eq), a.substring(eq + 1));
    }
    return new AllocBenchParams(
        Long.parseLong(req(m, "memoryBytes")), Integer.parseInt(req(m, "ring")),
        Long.parseLong(req(m, "seed")), Integer.parseInt(req(m, "warmups")),
        Integer.parseInt(req(m, "iterations")), Long.parseLong(req(m, "iterationMs")),
        Long.parseLong(req(m, "buildMemoryBytes")), Integer.parseInt(req(m, "buildRuns")),
        false);
  }

  private static String req(Map<String, String> m, String key) {
    String v = m.get(key);
    if (v == null) {
      throw new IllegalArgumentException("missing " + key + "=");
    }
    return v;
  }
}
