package io.hintlab.guest.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code bench alloc}: throughput of the allocator model and the cost of a large model.
 *
 * <ul>
 *   <li>order-0 alloc+free pairs/s through the per-cpu lists on one thread (GFP_KERNEL, cpu 0,
 *       a ring of live pages: see {@link Order0Pairs});
 *   <li>the same with per-cpu lists off ({@code MmConfig.Builder.pcp(false)});
 *   <li>steps/s of the {@code mixed} workload (orders 0..10, three migratetypes);
 *   <li>bytes of model metadata per page ({@code MemMap.bytesPerPage()});
 *   <li>build time and retained heap of a large model (256 GiB by default). The headline time is
 *       the first build in a fresh JVM (heap pages touched for the first time); later builds in
 *       the same JVM reuse committed heap and are several times faster.
 * </ul>
 *
 * Each throughput figure comes from warm-up iterations then measured iterations of fixed length
 * ({@link Measure}). With {@code fork}, each measurement runs in a fresh child JVM limited to
 * {@value AllocBenchParams#CHILD_XMX}; otherwise all run in this JVM, one after the other.
 */
public final class AllocBenchmark {
  private AllocBenchmark() {}

  /**
   * What one run measured.
   *
   * @param params the parameters
   * @param order0 order-0 pairs/s with per-cpu lists
   * @param order0NoPcp order-0 pairs/s without
   * @param mixed mixed workload steps/s
   * @param bytesPerPage model metadata per page
   * @param build the build measurement
   * @param how where the measurements ran, in words
   */
  public record Result(
      AllocBenchParams params, Throughput order0, Throughput order0NoPcp, Throughput mixed,
      double bytesPerPage, BuildStats build, String how) {

    /** The result as an ordered map with snake_case keys, for JSON output. */
    public Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("order0_pairs_per_sec", Math.round(order0.mean()));
      m.put("order0_pairs_per_sec_min", Math.round(order0.min()));
      m.put("order0_pairs_per_sec_max", Math.round(order0.max()));
      m.put("order0_pairs_per_sec_nopcp", Math.round(order0NoPcp.mean()));
      m.put("order0_pairs_per_sec_nopcp_min", Math.round(order0NoPcp.min()));
      m.put("order0_pairs_per_sec_nopcp_max", Math.round(order0NoPcp.max()));
      m.put("mixed_ops_per_sec", Math.round(mixed.mean()));
      m.put("mixed_ops_per_sec_min", Math.round(mixed.min()));
      m.put("mixed_ops_per_sec_max", Math.round(mixed.max()));
      m.put("bytes_per_page", bytesPerPage);
      m.put("build_256g_seconds", round3(build.firstSeconds()));
      m.put("build_256g_seconds_mean", round3(build.meanSeconds()));
      m.put("build_256g_seconds_min", round3(build.minSeconds()));
      m.put("build_256g_seconds_max", round3(build.maxSeconds()));
      m.put("build_256g_heap_bytes", build.heapBytes());
      m.put("build_256g_model_heap_bytes", build.modelHeapBytes());
      m.put("build_256g_heap_bytes_per_page",
          Math.round(build.modelHeapBytes() * 100.0 / build.pages()) / 100.0);
      m.put("build_max_heap_bytes", build.maxHeapBytes());
      m.put("build_memory_bytes", params.buildMemoryBytes());
      m.put("build_runs", params.buildRuns());
      m.put("memory_bytes", params.memoryBytes());
      m.put("ring", params.ring());
      m.put("seed", params.seed());
      m.put("warmup_iterations", params.warmups());
      m.put("iterations", params.iterations());
      m.put("iteration_ms", params.iterationMs());
      m.put("forked", params.fork());
      m.put("how", how);
      m.put("java_version", Runtime.version().toString());
      m.put("available_processors", Runtime.getRuntime().availableProcessors());
      return m;
    }

    private static double round3(double v) {
      return Math.round(v * 1000) / 1000.0;
    }
  }

  /**
   * Runs every measurement.
   *
   * @param progress where to say which measurement is running (one line each)
   * @throws IllegalStateException if a measurement fails or leaves the allocator inconsistent
   */
  public static Result run(AllocBenchParams p, PrintWriter progress)
      throws IOException, InterruptedException {
    Map<String, String> o0 = one(AllocBenchmarks.ORDER0, p, progress,
        "order-0 alloc+free pairs, per-cpu lists on");
    Map<String, String> o0n = one(AllocBenchmarks.ORDER0_NOPCP, p, progress,
        "order-0 alloc+free pairs, per-cpu lists off");
    Map<String, String> mx = one(AllocBenchmarks.MIXED, p, progress, "mixed workload");
    Map<String, String> b = one(AllocBenchmarks.BUILD, p, progress,
        "build of a " + mib(p.buildMemoryBytes()) + " model");
    BuildStats build = new BuildStats(p.buildMemoryBytes(), Integer.parseInt(b.get("runs")),
        d(b, "first"), d(b, "mean"), d(b, "min"), d(b, "max"), Long.parseLong(b.get("heap")),
        Long.parseLong(b.get("modelHeap")), Long.parseLong(b.get("maxHeap")),
        Long.parseLong(b.get("pages")));
    String how = p.fork()
        ? "each measurement in a fresh child JVM: java " + AllocBenchParams.CHILD_XMX
            + " -cp <guest classpath> " + BenchChild.class.getName() + " KIND"
        : "all measurements in this JVM (max heap "
            + (Runtime.getRuntime().maxMemory() >> 20) + " MiB)";
    return new Result(p, throughput(o0), throughput(o0n), throughput(mx), d(o0, "bytesPerPage"),
        build, how);
  }

  private static Map<String, String> one(
      String kind, AllocBenchParams p, PrintWriter progress, String what)
      throws IOException, InterruptedException {
    progress.println("bench alloc: " + what + "...");
    progress.flush();
    if (!p.fork()) {
      return AllocBenchmarks.run(kind, p);
    }
    long budget = (p.warmups() + p.iterations()) * p.iterationMs() / 1000 + 60L * p.buildRuns()
        + 60;
    return ChildJvm.run(kind, p, budget);
  }

  private static String mib(long bytes) {
    return bytes % (1L << 30) == 0 ? (bytes >> 30) + " GiB" : (bytes >> 20) + " MiB";
  }

  private static Throughput throughput(Map<String, String> m) {
    return new Throughput(d(m, "mean"), d(m, "min"), d(m, "max"), Long.parseLong(m.get("ops")),
        Integer.parseInt(m.get("iterations")));
  }

  private static double d(Map<String, String> m, String key) {
    return Double.parseDouble(m.get(key));
  }
}
