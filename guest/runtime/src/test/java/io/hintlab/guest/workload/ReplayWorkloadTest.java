package io.hintlab.guest.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The replay workload on small trace files in both pfn formats. */
class ReplayWorkloadTest {
  /**
   * Eleven events: 5 allocations replayed, one the kernel failed (pfn 0), one of order 11 (above
   * the model's largest), one duplicate identity; frees: 2 matched, one of a pfn never allocated,
   * one with the wrong order, one of the duplicate's identity (frees the newer block).
   */
  private static String trace(boolean hex) {
    String[][] events = {
      {"mm_page_alloc", "4096", "0", "1"},
      {"mm_page_alloc", "8192", "2", "0"},
      {"mm_page_alloc", "0", "9", "1"},
      {"mm_page_alloc", "12288", "11", "1"},
      {"mm_page_free", "4096", "0", null},
      {"mm_page_free", "20480", "0", null},
      {"mm_page_free", "8192", "1", null},
      {"mm_page_alloc", "16384", "3", "2"},
      {"mm_page_alloc", "16384", "3", "2"},
      {"mm_page_free", "16384", "3", null},
      {"mm_page_alloc", "24576", "9", "1"},
    };
    StringBuilder sb = new StringBuilder("# tracer: nop\n#\n");
    int i = 0;
    for (String[] e : events) {
      long pfn = Long.parseLong(e[1]);
      String p = hex ? "0x" + Long.toHexString(pfn) : Long.toString(pfn);
      String flags = hex ? "d..1." : "d...";
      sb.append(String.format("  memhog-4242  [%03d] %s  100.%06d: %s: page=%s pfn=%s order=%s",
          i % 3, flags, i, e[0], pfn == 0 ? "(null)" : "0000000012345678", p, e[2]));
      if (e[3] != null) {
        sb.append(" migratetype=").append(e[3]).append(" gfp_flags=GFP_KERNEL");
      }
      sb.append('\n');
      i++;
    }
    return sb.toString();
  }

  private static PageAllocator allocator() {
    return new PageAllocator(MmConfig.builder().memory(64L << 20).nrCpus(2).build());
  }

  @ParameterizedTest(name = "hex={0}")
  @ValueSource(booleans = {true, false})
  void replaysAllocationsMapsFreesAndCountsTheRest(boolean hex, @TempDir Path dir)
      throws IOException {
    Path f = dir.resolve(hex ? "new.txt" : "old.txt");
    Files.writeString(f, trace(hex));
    PageAllocator pa = allocator();
    long bootFree = pa.freePages();
    RecordingWriter writer = new RecordingWriter(pa, f.toString());
    Workload w = Workloads.create("replay", pa, 1,
        WorkloadConfig.DEFAULT.withTrace(FtraceParser.parse(f)).withWriter(writer));
    WorkloadResult r = w.run(0);
    String ctx = "hex " + hex + ": " + r.summary();
    assertEquals(5, r.allocs(), ctx);
    assertEquals(0, r.failures(), ctx);
    assertEquals(2, r.frees(), ctx);
    assertEquals(7, r.steps(), ctx);
    assertEquals(1 + 4 + 8 + 8 + 512 - 1 - 8, r.livePages(), ctx);
    assertEquals(3, r.liveBlocks(), ctx);
    Map<String, Long> c = r.counters();
    assertEquals(2L, c.get("unmatched_frees"), ctx);
    assertEquals(1L, c.get("duplicate_allocs"), ctx);
    assertEquals(1L, c.get("orders_too_large"), ctx);
    assertEquals(1L, c.get("trace_failed_allocs"), ctx);
    assertEquals(0L, c.get("trace_events_left"), ctx);
    assertEquals(r.pagesAllocated(), writer.pagesWritten, ctx);
    assertEquals(r.pagesFreed(), writer.pagesVerified, ctx);
    WorkloadResult after = w.run(0);
    assertEquals(0, after.steps(), "a run after the end does nothing");
    assertEquals(0L, after.counters().get("trace_failed_allocs"));
    InvariantChecker.check(pa);
    w.releaseAll();
    pa.drainAllPages(null);
    assertEquals(bootFree, pa.freePages(), ctx);
    assertEquals(0, writer.open(), ctx);
  }

  @ParameterizedTest(name = "hex={0}")
  @ValueSource(booleans = {true, false})
  void opsAdvanceACursorThroughTheTrace(boolean hex, @TempDir Path dir) throws IOException {
    Path f = dir.resolve("t.txt");
    Files.writeString(f, trace(hex));
    Workload w = Workloads.create("replay", allocator(), 1,
        WorkloadConfig.DEFAULT.withTrace(FtraceParser.parse(f)));
    WorkloadResult first = w.run(5);
    assertEquals(5L, first.counters().get("trace_events_left"), "hex " + hex + ": the failed "
        + "allocation is no event");
    assertEquals(2, first.allocs(), "hex " + hex);
    assertEquals(1, first.frees(), "hex " + hex);
    WorkloadResult rest = w.run(0);
    assertEquals(3, rest.allocs(), "hex " + hex);
    assertEquals(1, rest.frees(), "hex " + hex);
    assertEquals(1L, rest.counters().get("unmatched_frees"), "hex " + hex);
    assertEquals(0L, rest.counters().get("trace_failed_allocs"), "hex " + hex);
    assertEquals(1L, first.counters().get("trace_failed_allocs"), "hex " + hex);
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {1, 7, 1234567})
  void aFreeOfABlockTheModelRefusedIsUnmatched(long seed) {
    // 64M cannot hold 40 order-9 blocks: some allocations fail, and their frees do not match
    int n = 40;
    byte[] kind = new byte[2 * n];
    int[] cpu = new int[2 * n];
    long[] pfn = new long[2 * n];
    int[] order = new int[2 * n];
    int[] mt = new int[2 * n];
    for (int i = 0; i < 2 * n; i++) {
      kind[i] = i < n ? FtraceParser.ALLOC : FtraceParser.FREE;
      pfn[i] = 0x40000L + 512L * (i % n);
      order[i] = 9;
      mt[i] = i < n ? (int) (seed % 3) : -1;
      cpu[i] = (int) ((seed + i) % 4);
    }
    FtraceParser.Trace t = new FtraceParser.Trace(kind, cpu, pfn, order, mt, 2 * n, 0);
    PageAllocator pa = allocator();
    WorkloadResult r = Workloads.create("replay", pa, seed,
        WorkloadConfig.DEFAULT.withTrace(t)).run(0);
    String ctx = "seed " + seed + ": " + r.summary();
    assertEquals(n, r.allocs() + r.failures(), ctx);
    assertEquals(r.allocs(), r.frees(), ctx);
    assertEquals(r.failures(), r.counters().get("unmatched_frees"), ctx);
    assertEquals(0, r.livePages(), ctx);
    InvariantChecker.check(pa);
  }
}
