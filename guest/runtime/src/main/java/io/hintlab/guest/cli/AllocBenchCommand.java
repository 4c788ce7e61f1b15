package io.hintlab.guest.cli;

import io.hintlab.guest.bench.AllocBenchParams;
import io.hintlab.guest.bench.AllocBenchmark;
import io.hintlab.guest.bench.BuildStats;
import io.hintlab.guest.bench.Throughput;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code hintlab bench alloc}: allocator model throughput, metadata per page, build cost. */
@Command(name = "alloc", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
      "Measure the allocator model: order-0 alloc+free pairs/s on one thread with and without "
          + "per-cpu lists, steps/s of the mixed workload, bytes of metadata per page, and the "
          + "build time and heap of a 256 GiB model.",
      "Each measurement runs in a fresh child JVM with " + AllocBenchParams.CHILD_XMX
          + " (unless --no-fork): warm-up iterations, then measured iterations; the mean, "
          + "slowest and fastest iteration are reported."})
final class AllocBenchCommand implements Callable<Integer> {
  /** Issue targets. */
  static final double ORDER0_TARGET = 10e6;
  static final double ORDER0_NOPCP_TARGET = 3e6;
  static final double MIXED_TARGET = 2e6;
  static final double BYTES_PER_PAGE_TARGET = 16;
  static final double BUILD_SECONDS_TARGET = 5;
  static final long BUILD_HEAP_TARGET = 3L << 29;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--json", description = "Print one JSON object.")
  boolean json;

  @Option(names = "--memory", paramLabel = "SIZE", defaultValue = "1G",
      converter = Sizes.Converter.class,
      description = "Guest size of the throughput benchmarks (default: ${DEFAULT-VALUE}).")
  long memory;

  @Option(names = "--ring", paramLabel = "N", defaultValue = "256",
      description = "Live pages of the order-0 ring, a power of two (default: ${DEFAULT-VALUE}).")
  int ring;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
      description = "Seed of the mixed workload (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--warmup", paramLabel = "N", defaultValue = "4",
      description = "Warm-up iterations per benchmark (default: ${DEFAULT-VALUE}).")
  int warmups;

  @Option(names = "--iterations", paramLabel = "N", defaultValue = "8",
      description = "Measured iterations per benchmark (default: ${DEFAULT-VALUE}).")
  int iterations;

  @Option(names = "--iteration-ms", paramLabel = "MS", defaultValue = "1000",
      description = "Length of one iteration (default: ${DEFAULT-VALUE}).")
  long iterationMs;

  @Option(names = "--build-memory", paramLabel = "SIZE", defaultValue = "256G",
      converter = Sizes.Converter.class,
      description = "Guest size of the build measurement (default: ${DEFAULT-VALUE}).")
  long buildMemory;

  @Option(names = "--build-runs", paramLabel = "N", defaultValue = "3",
      description = "Builds measured, one after the other (default: ${DEFAULT-VALUE}).")
  int buildRuns;

  @Option(names = "--fork", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Run each measurement in a child JVM with " + AllocBenchParams.CHILD_XMX
          + " (default: ${DEFAULT-VALUE}); --no-fork runs them all in this JVM.")
  boolean fork;

  @Override
  public Integer call() throws Exception {
    AllocBenchParams p = new AllocBenchParams(memory, ring, seed, warmups, iterations,
        iterationMs, buildMemory, buildRuns, fork);
    PrintWriter out = spec.commandLine().getOut();
    AllocBenchmark.Result r = AllocBenchmark.run(p, spec.commandLine().getErr());
    Map<String, Boolean> met = targetsMet(r);
    if (json) {
      Map<String, Object> m = r.toMap();
      m.put("targets_met", met);
      out.println(JsonOut.write(m));
    } else {
      printText(out, r, met);
    }
    out.flush();
    return 0;
  }

  private static Map<String, Boolean> targetsMet(AllocBenchmark.Result r) {
    Map<String, Boolean> m = new LinkedHashMap<>();
    m.put("order0_pairs_per_sec", r.order0().mean() >= ORDER0_TARGET);
    m.put("order0_pairs_per_sec_nopcp", r.order0NoPcp().mean() >= ORDER0_NOPCP_TARGET);
    m.put("mixed_ops_per_sec", r.mixed().mean() >= MIXED_TARGET);
    m.put("bytes_per_page", r.bytesPerPage() <= BYTES_PER_PAGE_TARGET);
    m.put("build_256g_seconds", r.build().firstSeconds() <= BUILD_SECONDS_TARGET);
    m.put("build_256g_heap_bytes", r.build().heapBytes() < BUILD_HEAP_TARGET);
    return m;
  }

  private static void printText(
      PrintWriter out, AllocBenchmark.Result r, Map<String, Boolean> met) {
    AllocBenchParams p = r.params();
    out.printf("bench alloc: %s guest, 1 cpu, ring of %d pages, mixed seed %d; %d warm-up + %d "
            + "measured iterations of %d ms%n", Sizes.format(p.memoryBytes()), p.ring(), p.seed(),
        p.warmups(), p.iterations(), p.iterationMs());
    out.printf("  (%s)%n", r.how());
    rate(out, "order-0 pairs/s, pcp on", r.order0(), ">= 10 M", met.get("order0_pairs_per_sec"));
    rate(out, "order-0 pairs/s, pcp off", r.order0NoPcp(), ">= 3 M",
        met.get("order0_pairs_per_sec_nopcp"));
    rate(out, "mixed workload steps/s", r.mixed(), ">= 2 M", met.get("mixed_ops_per_sec"));
    out.printf("  %-26s %8.2f                               %-9s %s%n", "metadata bytes/page",
        r.bytesPerPage(), "<= 16", mark(met.get("bytes_per_page")));
    BuildStats b = r.build();
    out.printf("  %-26s %8.3f s (the first, in a fresh JVM; all %d: mean %.3f, min %.3f, "
            + "max %.3f) %-9s %s%n",
        Sizes.format(b.memoryBytes()) + " model build", b.firstSeconds(), b.runs(),
        b.meanSeconds(), b.minSeconds(), b.maxSeconds(), "<= 5 s",
        mark(met.get("build_256g_seconds")));
    out.printf("  %-26s %8d MiB (model %d MiB, %.2f B/page; max heap %d MiB) %-9s %s%n",
        Sizes.format(b.memoryBytes()) + " model heap", b.heapBytes() >> 20,
        b.modelHeapBytes() >> 20, (double) b.modelHeapBytes() / b.pages(),
        b.maxHeapBytes() >> 20, "< 1.5 GiB", mark(met.get("build_256g_heap_bytes")));
  }

  private static void rate(PrintWriter out, String what, Throughput t, String target, boolean ok) {
    out.printf("  %-26s %8.2f M (min %6.2f M, max %6.2f M) %-9s %s%n", what, t.mean() / 1e6,
        t.min() / 1e6, t.max() / 1e6, target, mark(ok));
  }

  private static String mark(boolean ok) {
    return ok ? "ok" : "MISSED";
  }
}
