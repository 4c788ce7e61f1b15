package io.hintlab.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** alloc_contig_range() / alloc_contig_pages() (mm/page_alloc.c, CONFIG_CONTIG_ALLOC). */
class ContigAllocTest {
  private static final int PB = 512;

  /** A workload owner that records where each of its movable pages lives. */
  static final class Tracker implements MovableOps {
    final int[] pfnOf = new int[1 << 16];
    int migrations;

    @Override
    public boolean isolatePage(int pfn, int order, int handle) {
      return pfnOf[handle] == pfn;
    }

    @Override
    public int migratePage(int dst, int src, int order, int handle) {
      pfnOf[handle] = dst;
      migrations++;
      return MIGRATEPAGE_SUCCESS;
    }

    @Override
    public void putbackPage(int pfn, int order, int handle) {}
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {1L, 9L, 77L})
  void shouldSucceedOnAFragmentedZoneByMigratingMovablePages(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    PageAllocator a = new PageAllocator(MmConfig.forMemory(64L << 20));
    Tracker t = new Tracker();
    int cls = a.owners().register(t, false);
    int n = 0;
    // Fill DMA32 with movable order-0 pages, then free a random half: fragmented, all movable.
    int[] handles = new int[12000];
    for (int i = 0; i < 12000; i++) {
      int pfn = a.allocPages(0, 0, Gfp.GFP_HIGHUSER_MOVABLE, PageOwners.owner(cls, i));
      if (pfn < 0) {
        break;
      }
      t.pfnOf[i] = pfn;
      handles[n++] = i;
    }
    for (int i = 0; i < n; i++) {
      if (r.nextBoolean()) {
        a.freePages(0, t.pfnOf[handles[i]], 0);
        t.pfnOf[handles[i]] = -1;
      }
    }
    Zone z = a.zone(ZoneType.DMA32);
    int start = z.startPfn() + 8 * PB + 37; // unaligned on purpose
    int end = start + 700;
    ContigAlloc contig = new ContigAlloc(a, new PageIsolation(a));
    assertEquals(0, contig.allocContigRange(0, start, end, false), "seed " + seed);
    for (int pfn = start; pfn < end; pfn++) {
      assertEquals(MemMap.K_ALLOC, a.memMap().kind(pfn), "seed " + seed + " pfn " + pfn);
    }
    for (int i = 0; i < n; i++) {
      int pfn = t.pfnOf[handles[i]];
      assertTrue(pfn < 0 || pfn < start || pfn >= end, "seed " + seed + ": a page stayed");
      assertTrue(pfn < 0 || a.memMap().kind(pfn) == MemMap.K_ALLOC, "seed " + seed);
    }
    assertTrue(t.migrations > 0, "seed " + seed);
    assertEquals(0, z.isolatedPageblocks());
    InvariantChecker.check(a);
    contig.freeContigRange(0, start, end - start);
    InvariantChecker.check(a);
  }

  @Test
  void shouldFailWithEbusyWhenAnUnmovablePageSitsInTheRange() {
    PageAllocator a = new PageAllocator(MmConfig.forMemory(64L << 20));
    int pinned = a.allocPages(0, 0, Gfp.GFP_KERNEL);
    int block = pinned & -PB;
    long free = a.freePages();
    ContigAlloc contig = new ContigAlloc(a, new PageIsolation(a));
    assertEquals(-Errno.EBUSY, contig.allocContigRange(0, block, block + 2 * PB, false));
    assertEquals(1, contig.failCount());
    assertEquals(free, a.freePages(), "a failed attempt gives everything back");
    assertEquals(0, a.zone(ZoneType.DMA32).isolatedPageblocks()
        + a.zone(ZoneType.DMA).isolatedPageblocks());
    InvariantChecker.check(a);
  }

  @Test
  void shouldFindAnAlignedRangeLikeGigantickPagesDo() {
    PageAllocator a = new PageAllocator(MmConfig.forMemory(64L << 20));
    ContigAlloc contig = new ContigAlloc(a, new PageIsolation(a));
    long free = a.freePages();
    int pfn = contig.allocContigPages(0, 2048, ZoneType.NORMAL);
    assertTrue(pfn >= 0);
    assertEquals(0, pfn % 2048);
    assertEquals(free - 2048, a.freePages());
    InvariantChecker.check(a);
  }
}
