package io.hintlab.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Seeded random mixes of allocations and frees (owned movable, balloon and unmovable),
 * compaction in all its forms, the coalescer, contiguous allocation and page isolation, with the
 * invariant checker and the owners' tables checked after every step.
 */
class CompactionRandomTest {
  private static final int[] MOVABLE_GFPS = {
    Gfp.GFP_HIGHUSER_MOVABLE, Gfp.GFP_TRANSHUGE_LIGHT, Gfp.GFP_HIGHUSER_MOVABLE | Gfp.__GFP_NORETRY
  };
  private static final CompactionPolicy[] POLICIES = {
    CompactionPolicy.DIRECT, CompactionPolicy.KERNEL, CompactionPolicy.PROACTIVE,
    CompactionPolicy.COALESCE
  };

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {1L, 2L, 3L, 42L, 0xC0FFEEL, 9001L})
  void invariantsHoldAfterEveryStep(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    PageAllocator a = new PageAllocator(MmConfig.builder().memory(48L << 20).nrCpus(2).build());
    long bootFree = a.freePages();
    Compaction c = a.setCompaction(POLICIES[r.nextInt(POLICIES.length)]);
    TrackingOwner lru = new TrackingOwner(a, false);
    TrackingOwner balloon = new TrackingOwner(a, true);
    List<int[]> unmovable = new ArrayList<>(); // {pfn, order}
    List<int[]> contig = new ArrayList<>(); // {start, nr}
    PageIsolation isolation = new PageIsolation(a);
    ContigAlloc contigAlloc = new ContigAlloc(a, isolation);
    int[] isolated = null;
    for (int step = 0; step < 1500; step++) {
      int op = r.nextInt(100);
      int cpu = r.nextInt(2);
      String what;
      if (op < 30) {
        int order = r.nextInt(8) == 0 ? 9 : r.nextInt(4);
        int gfp = MOVABLE_GFPS[r.nextInt(MOVABLE_GFPS.length)];
        what = "alloc movable order " + order + " -> " + lru.alloc(cpu, order, gfp);
      } else if (op < 34) {
        what = "inflate -> " + balloon.alloc(cpu, 0, Gfp.GFP_HIGHUSER_MOVABLE);
      } else if (op < 42) {
        int order = r.nextInt(3);
        int pfn = a.allocPages(cpu, order, r.nextBoolean() ? Gfp.GFP_KERNEL : Gfp.GFP_ATOMIC);
        if (pfn >= 0) {
          unmovable.add(new int[] {pfn, order});
        }
        what = "alloc unmovable order " + order + " -> " + pfn;
      } else if (op < 70) {
        what = freeSomething(a, r, cpu, lru, balloon, unmovable, contig, contigAlloc);
      } else if (op < 73) {
        what = "compact_memory";
        c.compactMemory(cpu);
      } else if (op < 78) {
        int order = 4 + r.nextInt(7);
        CompactPriority prio = CompactPriority.values()[r.nextInt(3)];
        what = "try_to_compact_pages order " + order + " " + prio + " -> "
            + c.tryToCompactPages(cpu, Gfp.GFP_HIGHUSER_MOVABLE, order,
                AllocFlags.ALLOC_WMARK_MIN, prio);
      } else if (op < 82) {
        what = "kcompactd tick";
        c.kcompactd().tick(cpu);
      } else if (op < 84) {
        what = "kswapd";
        a.kswapdBalance();
      } else if (op < 87) {
        Zone z = a.zones().get(r.nextInt(a.zones().size()));
        int order = 4 + r.nextInt(7);
        what = "coalesce " + z + " order " + order + " -> "
            + c.coalescer().coalesce(cpu, z, order, 1 + r.nextInt(3));
      } else if (op < 92) {
        Zone z = a.zone(ZoneType.DMA32);
        int nr = 1 + r.nextInt(700);
        int start = z.startPfn() + r.nextInt(z.spannedPages() - nr);
        int rc = contigAlloc.allocContigRange(cpu, start, start + nr, false);
        if (rc == 0) {
          contig.add(new int[] {start, nr});
        }
        what = "alloc_contig_range [" + start + ", +" + nr + ") -> " + Errno.name(rc);
      } else if (op < 97) {
        if (isolated == null) {
          Zone z = a.zone(ZoneType.DMA32);
          int nr = 1 + r.nextInt(1500);
          int start = z.startPfn() + r.nextInt(z.spannedPages() - nr);
          int rc = isolation.startIsolatePageRange(cpu, start, start + nr,
              PageIsolation.Mode.OTHER);
          if (rc == 0) {
            isolated = new int[] {start, start + nr};
          }
          what = "isolate [" + start + ", +" + nr + ") -> " + Errno.name(rc);
        } else {
          isolation.undoIsolatePageRange(isolated[0], isolated[1]);
          what = "undo isolation";
          isolated = null;
        }
      } else {
        what = "drain";
        a.drainAllPages(null);
      }
      check(a, seed, step, what, lru, balloon);
    }
    if (isolated != null) {
      isolation.undoIsolatePageRange(isolated[0], isolated[1]);
    }
    while (lru.size() > 0) {
      lru.freeAt(0, 0);
    }
    while (balloon.size() > 0) {
      balloon.freeAt(0, 0);
    }
    for (int[] u : unmovable) {
      a.freePages(0, u[0], u[1]);
    }
    for (int[] cr : contig) {
      contigAlloc.freeContigRange(0, cr[0], cr[1]);
    }
    a.drainAllPages(null);
    InvariantChecker.check(a);
    assertEquals(bootFree, a.freePages(), "seed " + seed + ": every page came back");
    String counts = "seed " + seed + " " + c.policy() + ": migrated " + lru.migrations + "+"
        + balloon.migrations + ", scanned " + a.event(VmEvent.COMPACT_MIGRATE_SCANNED)
        + ", contig " + contigAlloc.successCount() + "/" + contigAlloc.failCount()
        + ", coalesced " + c.coalescer().stats().success();
    assertTrue(lru.migrations > 0 && a.event(VmEvent.COMPACT_MIGRATE_SCANNED) > 0, counts);
    assertTrue(contigAlloc.successCount() > 0 && contigAlloc.failCount() > 0, counts);
  }

  private static String freeSomething(PageAllocator a, SplittableRandom r, int cpu,
      TrackingOwner lru, TrackingOwner balloon, List<int[]> unmovable, List<int[]> contig,
      ContigAlloc contigAlloc) {
    int which = r.nextInt(10);
    if (which < 6 && lru.size() > 0) {
      lru.freeAt(cpu, r.nextInt(lru.size()));
      return "free movable";
    }
    if (which < 7 && balloon.size() > 0) {
      balloon.freeAt(cpu, r.nextInt(balloon.size()));
      return "deflate";
    }
    if (which < 9 && !unmovable.isEmpty()) {
      int[] u = unmovable.remove(r.nextInt(unmovable.size()));
      a.freePages(cpu, u[0], u[1]);
      return "free unmovable " + u[0];
    }
    if (!contig.isEmpty()) {
      int[] cr = contig.remove(r.nextInt(contig.size()));
      contigAlloc.freeContigRange(cpu, cr[0], cr[1]);
      return "free_contig_range " + cr[0];
    }
    return "nothing to free";
  }

  private static void check(PageAllocator a, long seed, int step, String what,
      TrackingOwner... owners) {
    List<String> v = new ArrayList<>(InvariantChecker.violations(a));
    for (TrackingOwner o : owners) {
      v.addAll(o.violations());
    }
    if (!v.isEmpty()) {
      fail("seed " + seed + " step " + step + " (" + what + "): " + v);
    }
  }
}
