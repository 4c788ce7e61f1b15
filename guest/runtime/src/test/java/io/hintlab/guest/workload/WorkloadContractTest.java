package io.hintlab.guest.workload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.PagetypeinfoImport;
import io.hintlab.guest.mm.Zone;
import io.hintlab.guest.mm.proc.PagetypeinfoParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What every workload promises, seeded: the same seed gives the same run, the invariant checker
 * stays clean, releaseAll gives everything back, and the page writer sees a write of every page
 * allocated and a verify of every page before it is freed.
 */
class WorkloadContractTest {
  private static final long MEMORY = 64L << 20;
  private static final long[] SEEDS = {1, 7, 1234567};

  static Stream<Arguments> workloadsAndSeeds() {
    List<Arguments> out = new ArrayList<>();
    for (String name : Workloads.names()) {
      for (long seed : SEEDS) {
        out.add(Arguments.of(name, seed));
      }
    }
    return out.stream();
  }

  private static PageAllocator allocator() {
    return new PageAllocator(MmConfig.builder().memory(MEMORY).nrCpus(2).build());
  }

  /** Ops that keep each workload's run short. */
  static long ops(String name) {
    return switch (name) {
      case "churn", "mixed", "balloon" -> 20_000;
      case "memhog" -> 2;
      case "thp" -> 300;
      case "contig" -> 4000;
      default -> 0;
    };
  }

  /** Arguments that make each workload's run interesting on a small model. */
  static Map<String, Long> args(String name) {
    return switch (name) {
      case "churn" -> Map.of("bytes", 8L << 20);
      case "memhog" -> Map.of("bytes", 16L << 20);
      case "contig" -> Map.of("every", 200L, "hold", 600L);
      case "thp" -> Map.of("lifetime", 20L);
      default -> Map.of();
    };
  }

  /**
   * A seeded synthetic trace over a pool of trace pfns: allocations of free identities, frees of
   * mapped ones, and some frees of identities never allocated.
   */
  static FtraceParser.Trace syntheticTrace(long seed, int events) {
    SplittableRandom r = new SplittableRandom(seed);
    byte[] kind = new byte[events];
    int[] cpu = new int[events];
    long[] pfn = new long[events];
    int[] order = new int[events];
    int[] mt = new int[events];
    List<long[]> held = new ArrayList<>();
    for (int i = 0; i < events; i++) {
      cpu[i] = r.nextInt(4);
      int roll = r.nextInt(10);
      if (roll < 5 || held.isEmpty()) {
        kind[i] = FtraceParser.ALLOC;
        order[i] = r.nextInt(10) < 8 ? 0 : r.nextInt(4);
        pfn[i] = 0x100000L + ((long) i << 4);
        mt[i] = r.nextInt(3);
        held.add(new long[] {pfn[i], order[i]});
      } else if (roll < 9) {
        long[] b = held.remove(r.nextInt(held.size()));
        kind[i] = FtraceParser.FREE;
        pfn[i] = b[0];
        order[i] = (int) b[1];
        mt[i] = -1;
      } else {
        kind[i] = FtraceParser.FREE;
        pfn[i] = 0x900000L + i;
        order[i] = 0;
        mt[i] = -1;
      }
    }
    return new FtraceParser.Trace(kind, cpu, pfn, order, mt, events, 3);
  }

  static WorkloadConfig config(String name, long seed, PageWriter writer) {
    WorkloadConfig c = WorkloadConfig.DEFAULT.withArgs(args(name)).withWriter(writer);
    return Workloads.needsTrace(name) ? c.withTrace(syntheticTrace(seed, 3000)) : c;
  }

  private static long[] buddyinfo(PageAllocator pa) {
    List<Zone> zones = pa.zones();
    int orders = pa.geometry().nrPageOrders();
    long[] out = new long[zones.size() * orders];
    for (int z = 0; z < zones.size(); z++) {
      for (int o = 0; o < orders; o++) {
        out[z * orders + o] = zones.get(z).nrFree(o);
      }
    }
    return out;
  }

  @ParameterizedTest(name = "{0} seed={1}")
  @MethodSource("workloadsAndSeeds")
  void sameSeedSameRun(String name, long seed) {
    PageAllocator a = allocator();
    PageAllocator b = allocator();
    WorkloadResult ra = Workloads.create(name, a, seed, config(name, seed, null)).run(ops(name));
    WorkloadResult rb = Workloads.create(name, b, seed, config(name, seed, null)).run(ops(name));
    String ctx = name + " seed " + seed;
    assertEquals(ra, rb, ctx);
    assertArrayEquals(buddyinfo(a), buddyinfo(b), ctx);
    assertEquals(a.freePages(), b.freePages(), ctx);
    if (List.of("churn", "thp", "contig").contains(name)) {
      PageAllocator c = allocator();
      WorkloadResult rc = Workloads.create(name, c, seed + 1, config(name, seed, null))
          .run(ops(name));
      assertNotEquals(ra, rc, ctx + ": another seed gives another run");
    }
  }

  @ParameterizedTest(name = "{0} seed={1}")
  @MethodSource("workloadsAndSeeds")
  void consistentWritesEveryPageAndGivesEverythingBack(String name, long seed) {
    PageAllocator pa = allocator();
    String ctx = name + " seed " + seed;
    long bootFree = pa.freePages();
    RecordingWriter writer = new RecordingWriter(pa, ctx);
    Workload w = Workloads.create(name, pa, seed, config(name, seed, writer));
    WorkloadResult r = w.run(ops(name));
    InvariantChecker.check(pa);
    assertTrue(r.allocs() > 0, ctx + ": " + r.summary());
    assertEquals(r.allocs() + r.failures() + r.frees(), r.steps(), ctx + ": " + r.summary());
    assertEquals(r.pagesAllocated() - r.pagesFreed(), r.livePages(), ctx);
    assertEquals(r.pagesAllocated(), writer.pagesWritten, ctx + ": a write per page allocated");
    assertEquals(r.allocs(), writer.writes, ctx);
    assertEquals(r.pagesFreed(), writer.pagesVerified, ctx + ": a verify per page freed");
    assertEquals(r.frees(), writer.verifies, ctx);
    assertEquals(0L, r.counters().get("bad_pages"), ctx);
    WorkloadResult again = w.run(ops(name));
    InvariantChecker.check(pa);
    w.releaseAll();
    assertEquals(0, w.live().size(), ctx);
    assertEquals(0, writer.open(), ctx + ": every block verified before it was freed");
    assertEquals(writer.pagesWritten, writer.pagesVerified, ctx);
    assertEquals(r.pagesAllocated() + again.pagesAllocated(), writer.pagesWritten, ctx);
    pa.drainAllPages(null);
    InvariantChecker.check(pa);
    assertEquals(bootFree, pa.freePages(), ctx + ": releaseAll gave everything back");
  }

  @ParameterizedTest(name = "{0} seed={1}")
  @MethodSource("workloadsAndSeeds")
  void badPagesAreCountedOnlyWithAWriter(String name, long seed) {
    PageAllocator pa = allocator();
    RecordingWriter writer = new RecordingWriter(pa, name + " seed " + seed, 3);
    WorkloadResult r = Workloads.create(name, pa, seed, config(name, seed, writer))
        .run(ops(name));
    assertEquals(writer.badReported, r.counters().get("bad_pages"),
        name + " seed " + seed + ": " + r.summary());
    assertTrue(writer.verifies < 3 || writer.badReported > 0, name + " seed " + seed);
    WorkloadResult plain = Workloads.create(name, allocator(), seed, config(name, seed, null))
        .run(ops(name));
    assertTrue(!plain.counters().containsKey("bad_pages"), name + " seed " + seed);
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {1, 7, 1234567})
  void everyWorkloadRunsOnAnImportedMachineAndFreesOnlyItsOwnPages(long seed) throws IOException {
    String text;
    try (InputStream in = WorkloadContractTest.class.getResourceAsStream(
        "/testdata/linux-6.1-qemu-1g/pagetypeinfo")) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    for (String name : Workloads.names()) {
      String ctx = name + " seed " + seed;
      PageAllocator pa = PagetypeinfoImport.build(
          PagetypeinfoParser.parse(text, "pagetypeinfo"), null, 2);
      pa.drainAllPages(null);
      long startFree = pa.freePages();
      RecordingWriter writer = new RecordingWriter(pa, ctx);
      Map<String, Long> args = name.equals("memhog") ? Map.of("bytes", 64L << 20) : args(name);
      Workload w = Workloads.create(name, pa, seed,
          config(name, seed, writer).withArgs(args));
      WorkloadResult r = w.run(name.equals("memhog") ? 1 : ops(name));
      InvariantChecker.check(pa);
      assertTrue(r.allocs() > 0, ctx + ": " + r.summary());
      w.releaseAll();
      pa.drainAllPages(null);
      InvariantChecker.check(pa);
      assertEquals(startFree, pa.freePages(), ctx + ": the imported allocated pages stay");
      assertEquals(0, writer.open(), ctx);
    }
  }
}
