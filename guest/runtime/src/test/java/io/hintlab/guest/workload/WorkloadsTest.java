package io.hintlab.guest.workload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.Zone;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WorkloadsTest {
  private static final long MEMORY = 64L << 20;

  private static PageAllocator allocator(int cpus) {
    return new PageAllocator(MmConfig.builder().memory(MEMORY).nrCpus(cpus).build());
  }

  /** The free-page counts per zone and order: what buddyinfo prints. */
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

  private static long extfrag(PageAllocator pa) {
    return pa.zones().stream().mapToLong(Zone::extfragEvents).sum();
  }

  @ParameterizedTest
  @ValueSource(strings = {"fragment", "mixed", "idle"})
  void shouldBeDeterministicPerSeed(String name) {
    PageAllocator a = allocator(2);
    PageAllocator b = allocator(2);
    WorkloadResult ra = Workloads.create(name, a, 42).run(20_000);
    WorkloadResult rb = Workloads.create(name, b, 42).run(20_000);
    assertEquals(ra, rb);
    assertArrayEquals(buddyinfo(a), buddyinfo(b));
    assertEquals(a.freePages(), b.freePages());
    assertEquals(extfrag(a), extfrag(b));
    PageAllocator c = allocator(2);
    WorkloadResult rc = Workloads.create(name, c, 43).run(20_000);
    assertNotEquals(ra, rc, "another seed gives another run");
  }

  @ParameterizedTest
  @ValueSource(strings = {"fragment", "mixed", "idle"})
  void shouldKeepTheAllocatorConsistentAndGiveEverythingBack(String name) {
    PageAllocator pa = allocator(2);
    long bootFree = pa.freePages();
    Workload w = Workloads.create(name, pa, 7);
    WorkloadResult r = w.run(0);
    InvariantChecker.check(pa);
    assertEquals(r.allocs() + r.failures() + r.frees(), r.steps());
    assertEquals(r.pagesAllocated() - r.pagesFreed(), r.livePages());
    assertEquals(w.live().size(), r.liveBlocks());
    assertTrue(r.allocs() > 0, r.summary());
    w.releaseAll();
    assertEquals(0, w.live().size());
    pa.drainAllPages(null);
    InvariantChecker.check(pa);
    assertEquals(bootFree, pa.freePages());
  }

  @Test
  void fragmentShouldLeaveLowOrderFreeBlocksAndFallBack() {
    PageAllocator pa = allocator(1);
    WorkloadResult r = Workloads.create("fragment", pa, 1).run(0);
    assertTrue(r.frees() > r.allocs() / 3, r.summary());
    assertTrue(extfrag(pa) > 0, "unmovable and reclaimable allocations fell back");
    Zone dma32 = pa.zones().get(pa.zones().size() - 1);
    long lowOrderBlocks = dma32.nrFree(0) + dma32.nrFree(1) + dma32.nrFree(2);
    assertTrue(lowOrderBlocks > 100 * dma32.nrFree(10), "free memory is scattered");
  }

  @Test
  void mixedShouldHoverAroundHalfOfMemory() {
    PageAllocator pa = allocator(1);
    long free = pa.freePages();
    Workload w = Workloads.create("mixed", pa, 3);
    w.run(200_000);
    assertTrue(w.live().pages() > free / 3 && w.live().pages() < free * 2 / 3,
        "live " + w.live().pages() + " of " + free);
    WorkloadResult again = w.run(1000);
    assertEquals(1000, again.steps());
  }

  @Test
  void shouldRejectUnknownNamesListingTheValidOnes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Workloads.create("bogus", allocator(1), 1));
    assertEquals("unknown workload 'bogus': expected one of balloon, churn, contig, fragment, idle, "
        + "memhog, mixed, replay, thp",
        e.getMessage());
    assertEquals(List.of("balloon", "churn", "contig", "fragment", "idle", "memhog", "mixed", "replay",
        "thp"), Workloads.names());
  }

  @Test
  void shouldRejectNegativeOps() {
    Workload w = Workloads.create("mixed", allocator(1), 1);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.run(-1));
    assertEquals("ops must be >= 0, got -1", e.getMessage());
  }

  @Test
  void liveBlocksShouldSwapTheLastIntoTheHole() {
    LiveBlocks l = new LiveBlocks(1);
    l.add(10, 0);
    l.add(20, 3);
    l.add(40, 1);
    assertEquals(11, l.pages());
    l.removeAt(0);
    assertEquals(2, l.size());
    assertEquals(40, l.pfn(0));
    assertEquals(1, l.order(0));
    assertEquals(10, l.pages());
    assertThrows(IllegalArgumentException.class, () -> l.removeAt(2));
  }
}
