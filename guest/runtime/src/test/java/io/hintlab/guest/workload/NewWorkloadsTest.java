package io.hintlab.guest.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.MemMap;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The semantics of churn, memhog, thp and contig, seeded. */
class NewWorkloadsTest {
  private static PageAllocator allocator() {
    return new PageAllocator(MmConfig.builder().memory(64L << 20).nrCpus(2).build());
  }

  private static Workload create(String name, PageAllocator pa, long seed, Map<String, Long> args) {
    return Workloads.create(name, pa, seed, WorkloadConfig.DEFAULT.withArgs(args));
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {1, 7, 1234567})
  void churnNeverHoldsMoreThanItsBound(long seed) {
    PageAllocator pa = allocator();
    Workload w = create("churn", pa, seed, Map.of("bytes", 2L << 20));
    long[] max = {0};
    w.setStepHook(() -> max[0] = Math.max(max[0], w.live().pages()));
    WorkloadResult r = w.run(30_000);
    assertTrue(max[0] <= 512, "seed " + seed + ": held " + max[0] + " pages");
    assertTrue(max[0] > 400, "seed " + seed + ": the working set fills up to the bound");
    assertTrue(r.frees() > r.steps() / 5, "seed " + seed + ": " + r.summary());
    int[] orders = new int[11];
    for (int i = 0; i < w.live().size(); i++) {
      orders[w.live().order(i)]++;
    }
    assertTrue(orders[0] > 0 && orders[1] + orders[2] + orders[3] > 0,
        "seed " + seed + ": mixed orders");
    InvariantChecker.check(pa);
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {1, 7, 1234567})
  void memhogAllocatesTouchesAndFreesItsBytesEachCycle(long seed) {
    PageAllocator pa = allocator();
    long bootFree = pa.freePages();
    RecordingWriter writer = new RecordingWriter(pa, "seed " + seed);
    Workload w = Workloads.create("memhog", pa, seed,
        WorkloadConfig.DEFAULT.withArgs(Map.of("bytes", (1L << 20) + 1)).withWriter(writer));
    WorkloadResult r = w.run(3);
    assertEquals(3 * 257, r.allocs(), "seed " + seed + ": 1M + 1 byte is 257 pages a cycle");
    assertEquals(3 * 257, r.frees(), "seed " + seed);
    assertEquals(0, r.failures(), "seed " + seed);
    assertEquals(0, r.livePages(), "seed " + seed);
    assertEquals(3 * 257, writer.pagesWritten, "seed " + seed);
    assertEquals(3 * 257, writer.pagesVerified, "seed " + seed);
    pa.drainAllPages(null);
    assertEquals(bootFree, pa.freePages(), "seed " + seed);
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {1, 7})
  void memhogOfMoreThanIsFreeFailsOncePerCycleAndFreesWhatItGot(long seed) {
    PageAllocator pa = allocator();
    Workload w = create("memhog", pa, seed, Map.of("bytes", 64L << 20));
    WorkloadResult r = w.run(2);
    assertEquals(2, r.failures(), "seed " + seed + ": " + r.summary());
    assertEquals(r.allocs(), r.frees(), "seed " + seed);
    assertEquals(0, w.live().size(), "seed " + seed);
    InvariantChecker.check(pa);
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {1, 7, 1234567})
  void thpHoldsOrder9MovableBlocksAndReleasesThemOverTime(long seed) {
    PageAllocator pa = allocator();
    Workload w = create("thp", pa, seed, Map.of("lifetime", 4L));
    WorkloadResult r = w.run(400);
    String ctx = "seed " + seed + ": " + r.summary();
    assertEquals(400, r.allocs() + r.failures(), ctx);
    assertTrue(r.allocs() > 200, ctx);
    assertTrue(r.frees() > 100, ctx);
    assertEquals(r.counters().get("thp_light_attempts") + r.counters().get("thp_madvised_attempts"),
        400L, ctx);
    assertTrue(r.counters().get("thp_madvised_attempts") > 50, ctx);
    assertTrue(w.live().size() <= 9, ctx + ": a lifetime of at most 8 attempts");
    MemMap mm = pa.memMap();
    for (int i = 0; i < w.live().size(); i++) {
      assertEquals(9, w.live().order(i), ctx);
      assertEquals(9, mm.order(w.live().pfn(i)), ctx);
      assertEquals(0, w.live().pfn(i) % 512, ctx + ": naturally aligned");
    }
    InvariantChecker.check(pa);
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {1, 7, 1234567})
  void contigAllocatesRangesPeriodicallyMigratingTheBackgroundOutOfTheWay(long seed) {
    PageAllocator pa = allocator();
    Workload w = create("contig", pa, seed, Map.of("size", 1L << 20, "every", 100L,
        "hold", 250L));
    WorkloadResult r = w.run(2000);
    Map<String, Long> c = r.counters();
    String ctx = "seed " + seed + ": " + r.summary();
    assertEquals(20, c.get("contig_success") + c.get("contig_fail"), ctx);
    assertTrue(c.get("contig_success") >= 15, ctx);
    assertTrue(c.get("contig_held") >= 1 && c.get("contig_held") <= 3, ctx);
    assertTrue(c.get("contig_ebusy") >= 0, ctx);
    assertTrue(pa.event(io.hintlab.guest.mm.VmEvent.PGMIGRATE_SUCCESS) > 0,
        ctx + ": background pages were in the way and moved");
    assertEquals(w.live().pages() + c.get("contig_held") * 256, r.livePages(), ctx);
    InvariantChecker.check(pa);
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {1, 7})
  void contigLargerThanAnyZoneAlwaysFails(long seed) {
    PageAllocator pa = allocator();
    Workload w = create("contig", pa, seed, Map.of("size", 64L << 20, "every", 50L));
    WorkloadResult r = w.run(500);
    assertEquals(10L, r.counters().get("contig_fail"), "seed " + seed + ": " + r.summary());
    assertEquals(0L, r.counters().get("contig_success"), "seed " + seed);
    InvariantChecker.check(pa);
  }

  @Test
  void argumentsAreCheckedWithMessagesNamingThem() {
    PageAllocator pa = allocator();
    assertEquals("workload memhog has no argument 'size': expected bytes",
        assertThrows(IllegalArgumentException.class,
            () -> create("memhog", pa, 1, Map.of("size", 4096L))).getMessage());
    assertEquals("workload mixed has no argument 'bytes' (it takes none)",
        assertThrows(IllegalArgumentException.class,
            () -> create("mixed", pa, 1, Map.of("bytes", 4096L))).getMessage());
    assertEquals("bytes must be at least a page (4096 bytes), got 100",
        assertThrows(IllegalArgumentException.class,
            () -> create("memhog", pa, 1, Map.of("bytes", 100L))).getMessage());
    long memory = BaseWorkload.memoryPages(pa) * 4096;
    assertEquals("size must be at most the guest's memory (" + memory + " bytes), got "
            + (1L << 30),
        assertThrows(IllegalArgumentException.class,
            () -> create("contig", pa, 1, Map.of("size", 1L << 30))).getMessage());
    assertEquals("every must be in [1, 2147483647], got 0",
        assertThrows(IllegalArgumentException.class,
            () -> create("contig", pa, 1, Map.of("every", 0L))).getMessage());
    assertEquals("lifetime must be in [1, 2147483647], got -1",
        assertThrows(IllegalArgumentException.class,
            () -> create("thp", pa, 1, Map.of("lifetime", -1L))).getMessage());
    assertEquals("workload replay needs a trace",
        assertThrows(IllegalArgumentException.class,
            () -> Workloads.create("replay", pa, 1)).getMessage());
    FtraceParser.Trace t = WorkloadContractTest.syntheticTrace(1, 10);
    assertEquals("workload churn takes no trace",
        assertThrows(IllegalArgumentException.class,
            () -> Workloads.create("churn", pa, 1, WorkloadConfig.DEFAULT.withTrace(t)))
            .getMessage());
  }
}
