package io.hintlab.guest.bench;

import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.MemMap;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.workload.MixedWorkload;
import io.hintlab.guest.workload.Workload;
import io.hintlab.guest.workload.Workloads;
import java.lang.management.ManagementFactory;
import java.lang.ref.Reference;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The four measurements of {@code bench alloc}, each run in the current JVM and returning its
 * figures as strings (so that a child JVM can print them and the parent read them back).
 */
final class AllocBenchmarks {
  static final String ORDER0 = "order0";
  static final String ORDER0_NOPCP = "order0-nopcp";
  static final String MIXED = "mixed";
  static final String BUILD = "build";

  private AllocBenchmarks() {}

  /**
   * Runs one measurement.
   *
   * @throws IllegalArgumentException for an unknown kind
   * @throws IllegalStateException if the allocator is inconsistent afterwards
   */
  static Map<String, String> run(String kind, AllocBenchParams p) {
    return switch (kind) {
      case ORDER0 -> order0(p, true);
      case ORDER0_NOPCP -> order0(p, false);
      case MIXED -> mixed(p);
      case BUILD -> build(p);
      default -> throw new IllegalArgumentException("unknown benchmark '" + kind + "'");
    };
  }

  private static Map<String, String> order0(AllocBenchParams p, boolean pcp) {
    PageAllocator pa = new PageAllocator(
        MmConfig.builder().memory(p.memoryBytes()).nrCpus(1).pcp(pcp).build());
    long bootFree = pa.freePages();
    Order0Pairs pairs = new Order0Pairs(pa, p.ring());
    Throughput t = Measure.run(pairs, p.warmups(), p.iterations(), p.iterationMs());
    pairs.release();
    pa.drainAllPages(null);
    checkBack(pa, bootFree);
    Map<String, String> out = throughput(t);
    out.put("bytesPerPage", Double.toString(pa.memMap().bytesPerPage()));
    return out;
  }

  private static Map<String, String> mixed(AllocBenchParams p) {
    PageAllocator pa = new PageAllocator(
        MmConfig.builder().memory(p.memoryBytes()).nrCpus(1).build());
    long bootFree = pa.freePages();
    Workload w = Workloads.create(MixedWorkload.NAME, pa, p.seed());
    Throughput t = Measure.run(w::run, p.warmups(), p.iterations(), p.iterationMs());
    long failures = w.run(Measure.BATCH).failures();
    w.releaseAll();
    pa.drainAllPages(null);
    checkBack(pa, bootFree);
    Map<String, String> out = throughput(t);
    out.put("lastBatchFailures", Long.toString(failures));
    return out;
  }

  private static void checkBack(PageAllocator pa, long bootFree) {
    InvariantChecker.check(pa);
    if (pa.freePages() != bootFree) {
      throw new IllegalStateException(
          "free pages " + pa.freePages() + " after freeing everything, " + bootFree + " at boot");
    }
  }

  private static Map<String, String> throughput(Throughput t) {
    Map<String, String> out = new LinkedHashMap<>();
    out.put("mean", Double.toString(t.mean()));
    out.put("min", Double.toString(t.min()));
    out.put("max", Double.toString(t.max()));
    out.put("ops", Long.toString(t.ops()));
    out.put("iterations", Integer.toString(t.iterations()));
    return out;
  }

  /** Builds the model buildRuns times, the previous one unreachable, timing each. */
  private static Map<String, String> build(AllocBenchParams p) {
    double first = 0;
    double sum = 0;
    double min = Double.MAX_VALUE;
    double max = 0;
    long heap = 0;
    long baseline = 0;
    long pages = 0;
    for (int i = 0; i < p.buildRuns(); i++) {
      baseline = usedHeapAfterGc();
      long t0 = System.nanoTime();
      PageAllocator pa = new PageAllocator(MmConfig.forMemory(p.buildMemoryBytes()));
      double s = (System.nanoTime() - t0) / 1e9;
      heap = usedHeapAfterGc();
      MemMap mm = pa.memMap();
      pages = mm.nrPages();
      Reference.reachabilityFence(pa);
      if (i == 0) {
        first = s;
      }
      sum += s;
      min = Math.min(min, s);
      max = Math.max(max, s);
    }
    Map<String, String> out = new LinkedHashMap<>();
    out.put("runs", Integer.toString(p.buildRuns()));
    out.put("first", Double.toString(first));
    out.put("mean", Double.toString(sum / p.buildRuns()));
    out.put("min", Double.toString(min));
    out.put("max", Double.toString(max));
    out.put("heap", Long.toString(heap));
    out.put("modelHeap", Long.toString(heap - baseline));
    out.put("maxHeap", Long.toString(Runtime.getRuntime().maxMemory()));
    out.put("pages", Long.toString(pages));
    return out;
  }

  private static long usedHeapAfterGc() {
    for (int i = 0; i < 2; i++) {
      System.gc();
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
