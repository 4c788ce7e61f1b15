package io.hintlab.host.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code hintlab bench reclaim}: reclaim throughput vs raw punch-hole throughput. */
@Command(name = "reclaim", mixinStandardHelpOptions = true,
    description = "Drive a host (Unix socket, in this process) with report batches and compare "
        + "its reclaim throughput with raw fallocate(PUNCH_HOLE) on the same kind of file.")
final class ReclaimCommand implements Callable<Integer> {
  @Option(names = "--memory-mib", paramLabel = "MIB", defaultValue = "256",
      description = "Guest RAM discarded per pass (default: ${DEFAULT-VALUE}).")
  long memoryMib;

  @Option(names = "--order", paramLabel = "ORDER", defaultValue = "9",
      description = "Order of each reported range; 9 = 2 MiB (default: ${DEFAULT-VALUE}).")
  int order;

  @Option(names = "--batch", paramLabel = "N", defaultValue = "32",
      description = "Ranges per report (default: ${DEFAULT-VALUE} = PAGE_REPORTING_CAPACITY).")
  int batch;

  @Option(names = "--passes", paramLabel = "N", defaultValue = "16",
      description = "Measured passes after one warm-up (default: ${DEFAULT-VALUE}).")
  int passes;

  @Option(names = "--warmup-ms", paramLabel = "MS", defaultValue = "3000",
      description = "Untimed calls first, so the JIT compiles the call path "
          + "(default: ${DEFAULT-VALUE}).")
  long warmupMs;

  @Option(names = "--json", description = "Print the result as JSON.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    if (memoryMib < 1 || memoryMib > 16384) {
      throw new IllegalArgumentException("--memory-mib must be in [1, 16384], was " + memoryMib);
    }
    if (order < 0 || order > 10) {
      throw new IllegalArgumentException("--order must be in [0, 10], was " + order);
    }
    if (batch < 1 || batch > 32) {
      throw new IllegalArgumentException("--batch must be in [1, 32], was " + batch);
    }
    if (passes < 1 || passes > 1000) {
      throw new IllegalArgumentException("--passes must be in [1, 1000], was " + passes);
    }
    if (warmupMs < 0 || warmupMs > 60_000) {
      throw new IllegalArgumentException("--warmup-ms must be in [0, 60000], was " + warmupMs);
    }
    long bytes = memoryMib << 20;
    if (bytes % (4096L << order) != 0) {
      throw new IllegalArgumentException("--memory-mib must be a multiple of the range size");
    }
    var r = ReclaimBenchmark.run(
        new ReclaimBenchmark.Params(bytes, order, batch, passes, warmupMs));
    if (json) {
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("reclaim_bytes_per_sec", Math.round(r.reclaimBytesPerSec()));
      o.put("raw_punch_hole_bytes_per_sec", Math.round(r.rawBytesPerSec()));
      o.put("ratio", Math.round(r.ratio() * 1000) / 1000.0);
      o.put("report_rtt_p50_us", Math.round(r.rttP50Us()));
      o.put("report_rtt_p99_us", Math.round(r.rttP99Us()));
      o.put("host_side_bytes_per_sec", Math.round(r.hostSideBytesPerSec()));
      o.put("range_bytes", 4096L << order);
      o.put("ranges_per_report", batch);
      o.put("memory_bytes", bytes);
      o.put("passes", passes);
      o.put("reports", r.reports());
      o.put("transport", r.transport());
      System.out.println(JsonOut.write(o));
      return 0;
    }
    System.out.printf("reclaim: %d KiB ranges, %d per report, %d MiB x %d passes, host on %s%n",
        4L << order, batch, memoryMib, passes, r.transport());
    System.out.printf("  reclaim throughput      %8.2f GiB/s%n",
        r.reclaimBytesPerSec() / (1L << 30));
    System.out.printf("  raw punch-hole          %8.2f GiB/s%n", r.rawBytesPerSec() / (1L << 30));
    System.out.printf("  ratio                   %8.3f%n", r.ratio());
    System.out.printf("  host-side handling      %8.2f GiB/s (inside Report, without transport)%n",
        r.hostSideBytesPerSec() / (1L << 30));
    System.out.printf("  report RTT p50 / p99    %8.0f / %.0f us (%d reports)%n", r.rttP50Us(),
        r.rttP99Us(), r.reports());
    return 0;
  }
}
