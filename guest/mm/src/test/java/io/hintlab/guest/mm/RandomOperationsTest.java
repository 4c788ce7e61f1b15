package io.hintlab.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Seeded random sequences of allocations, frees, drains and reporting isolate/putback cycles,
 * with the invariant checker after every step; at the end everything is freed and drained and the
 * free page count must be back at its boot value with no fragmentation left behind in the zone
 * totals.
 */
class RandomOperationsTest {
  private static final int[] GFPS = {
    Gfp.GFP_KERNEL, Gfp.GFP_KERNEL_RECLAIMABLE, Gfp.GFP_HIGHUSER_MOVABLE, Gfp.GFP_ATOMIC,
    Gfp.GFP_NOWAIT, Gfp.GFP_DMA32 | Gfp.GFP_KERNEL, Gfp.GFP_TRANSHUGE_LIGHT
  };

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {1L, 2L, 42L, 0xC0FFEEL, 7777L})
  void invariantsHoldAfterEveryStepOfARandomSequence(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    MmConfig cfg = MmConfig.builder().memory(48L << 20).nrCpus(2).build();
    PageAllocator a = new PageAllocator(cfg);
    long bootFree = a.freePages();
    int[] live = new int[1 << 16];
    int[] liveOrder = new int[1 << 16];
    int[] liveCpu = new int[1 << 16];
    int n = 0;
    int steps = 4000;
    for (int step = 0; step < steps; step++) {
      int op = r.nextInt(100);
      String what;
      if (op < 55 && n < live.length) {
        int order = r.nextInt(4) == 0 ? r.nextInt(11) : r.nextInt(4);
        int gfp = GFPS[r.nextInt(GFPS.length)];
        if (gfp == Gfp.GFP_TRANSHUGE_LIGHT) {
          order = 9;
        }
        int cpu = r.nextInt(2);
        int pfn = a.allocPages(cpu, order, gfp);
        what = "alloc order " + order + " gfp 0x" + Integer.toHexString(gfp) + " -> " + pfn;
        if (pfn >= 0) {
          live[n] = pfn;
          liveOrder[n] = order;
          liveCpu[n] = cpu;
          n++;
        }
      } else if (op < 93 && n > 0) {
        int i = r.nextInt(n);
        what = "free pfn " + live[i] + " order " + liveOrder[i];
        a.freePages(r.nextInt(2), live[i], liveOrder[i]);
        n--;
        live[i] = live[n];
        liveOrder[i] = liveOrder[n];
        liveCpu[i] = liveCpu[n];
      } else if (op < 96) {
        what = "drain all";
        a.drainAllPages(null);
      } else {
        what = "report cycle";
        reportCycle(a, r);
      }
      List<String> v = InvariantChecker.violations(a);
      if (!v.isEmpty()) {
        fail("seed " + seed + " step " + step + " (" + what + "): " + v);
      }
    }
    for (int i = 0; i < n; i++) {
      a.freePages(liveCpu[i], live[i], liveOrder[i]);
    }
    a.drainAllPages(null);
    InvariantChecker.check(a);
    assertEquals(bootFree, a.freePages(), "seed " + seed + ": free pages after freeing all");
  }

  /** What free page reporting does: isolate a few high-order blocks, put them back, mark them. */
  private static void reportCycle(PageAllocator a, SplittableRandom r) {
    for (Zone z : a.zones()) {
      z.lock.lock();
      try {
        int order = 9 + r.nextInt(2);
        int[] taken = new int[4];
        int nt = 0;
        int pfn = z.freeListFirst(order, MigrateType.MOVABLE);
        while (pfn != MemMap.NIL && nt < taken.length) {
          int next = z.freeListNext(pfn);
          if (!z.memMap().isReported(pfn) && z.isolateFreePage(pfn, order) > 0) {
            taken[nt++] = pfn;
          }
          pfn = next;
        }
        for (int i = 0; i < nt; i++) {
          int mt = z.memMap().getPfnblockMigratetype(taken[i]);
          z.putbackIsolatedPage(taken[i], order, mt);
          z.setPageReported(taken[i], order);
        }
        assertTrue(nt <= taken.length);
      } finally {
        z.lock.unlock();
      }
    }
  }
}
