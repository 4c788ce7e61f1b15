package io.hintlab.guest.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.CompactionPolicy;
import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.MemMap;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.VmEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Workloads own their blocks, so migration moves their live entries with the pages. */
class WorkloadOwnerTest {

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"fragment", "mixed", "idle"})
  void compactionMovesWorkloadPagesAndTheWorkloadFollows(String name) {
    PageAllocator pa = new PageAllocator(MmConfig.builder().memory(64L << 20).build());
    long bootFree = pa.freePages();
    Workload w = Workloads.create(name, pa, 5);
    w.run(name.equals("mixed") ? 50_000 : 0);
    pa.compaction().compactMemory(0);
    if (name.equals("fragment")) {
      // (mixed and idle leave free memory in large blocks: compaction finds few targets)
      assertTrue(pa.event(VmEvent.PGMIGRATE_SUCCESS) > 0, name);
    }
    MemMap mm = pa.memMap();
    for (int i = 0; i < w.live().size(); i++) {
      int pfn = w.live().pfn(i);
      assertEquals(MemMap.K_ALLOC, mm.kind(pfn), name + " block " + i);
      assertEquals(w.live().order(i), mm.order(pfn), name + " block " + i);
    }
    w.run(1000); // frees and allocations after the moves use the new pfns
    InvariantChecker.check(pa);
    w.releaseAll();
    pa.drainAllPages(null);
    InvariantChecker.check(pa);
    assertEquals(bootFree, pa.freePages(), name);
  }

  @Test
  void directCompactionDuringTheRunKeepsTheWorkloadConsistent() {
    PageAllocator pa = new PageAllocator(MmConfig.builder().memory(64L << 20).build());
    pa.setCompaction(CompactionPolicy.KERNEL);
    Workload w = Workloads.create("mixed", pa, 11);
    int[] steps = {0};
    w.setStepHook(() -> {
      if (++steps[0] % 500 == 0) {
        pa.compaction().kcompactd().tick(0);
        pa.kswapdBalance();
      }
    });
    w.run(100_000);
    assertEquals(100_000, steps[0]);
    InvariantChecker.check(pa);
    w.releaseAll();
    pa.drainAllPages(null);
    InvariantChecker.check(pa);
  }

  @Test
  void handlesSurviveSwapRemoval() {
    LiveBlocks l = new LiveBlocks(1);
    l.add(10, 0);
    int h = l.reserveHandle();
    l.add(20, 1, h);
    l.add(40, 2);
    int last = l.handle(2);
    l.removeAt(0);
    assertEquals(0, l.indexOf(last), "the last block took the hole");
    assertEquals(1, l.indexOf(h));
    l.setPfn(l.indexOf(last), 44);
    assertEquals(44, l.pfn(0));
    int reused = l.reserveHandle();
    assertEquals(-1, l.indexOf(reused), "a reserved handle names no block");
    l.releaseHandle(reused);
    assertEquals(5, l.pages() - 1);
  }
}
