package io.hintlab.guest.mm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Balloon pages (mm/balloon_compaction.c): inflate, deflate, and migration via balloon_mops. */
class BalloonDevInfoTest {
  private static final int PB = 512;

  @Test
  void shouldCountInflateAndDeflateAndGiveThePagesBack() {
    PageAllocator a = new PageAllocator(MmConfig.forMemory(64L << 20));
    long free = a.freePages();
    BalloonDevInfo b = new BalloonDevInfo(a, (n, o) -> 0);
    int[] pfns = new int[100];
    for (int i = 0; i < pfns.length; i++) {
      pfns[i] = b.inflateOne(0);
      assertTrue(pfns[i] >= 0);
      assertTrue(b.contains(pfns[i]));
      assertEquals(MemMap.AUX_MOVABLE_OPS, a.memMap().aux(pfns[i]), "balloon pages are movable_ops");
    }
    assertEquals(100, b.size());
    assertEquals(100, a.event(VmEvent.BALLOON_INFLATE));
    for (int i = 0; i < pfns.length; i++) {
      int pfn = b.dequeueOne(0);
      assertTrue(pfn >= 0);
      b.release(0, pfn);
    }
    assertEquals(-1, b.dequeueOne(0));
    assertEquals(100, a.event(VmEvent.BALLOON_DEFLATE));
    a.drainAllPages(null);
    assertEquals(free, a.freePages());
    InvariantChecker.check(a);
  }

  @Test
  void shouldTellTheHostInflateNewDeflateOldWhenABalloonPageMigrates() {
    // balloon_page_isolate() -> balloon_page_migrate() -> virtballoon_migratepage()
    PageAllocator a = new PageAllocator(MmConfig.forMemory(64L << 20));
    List<int[]> told = new ArrayList<>();
    BalloonDevInfo b = new BalloonDevInfo(a, (newPfn, oldPfn) -> {
      told.add(new int[] {newPfn, oldPfn});
      return 0;
    });
    int old = b.inflateOne(0);
    int rc = Migration.migrateBlock(a, 0, old, MigrationTarget.allocator(a, 0));
    assertEquals(0, rc);
    assertEquals(1, told.size());
    int moved = told.get(0)[0];
    assertArrayEquals(new int[] {moved, old}, told.get(0));
    assertTrue(b.contains(moved));
    assertFalse(b.contains(old));
    assertEquals(0, b.isolatedPages());
    assertEquals(1, a.event(VmEvent.BALLOON_MIGRATE));
    assertEquals(1, a.event(VmEvent.PGMIGRATE_SUCCESS));
    InvariantChecker.check(a);
  }

  @Test
  void shouldPutThePageBackWhenTheDeviceIsGone() {
    PageAllocator a = new PageAllocator(MmConfig.forMemory(64L << 20));
    BalloonDevInfo b = new BalloonDevInfo(a, null);
    int pfn = b.inflateOne(0);
    assertEquals(-Errno.EAGAIN, Migration.migrateBlock(a, 0, pfn, MigrationTarget.allocator(a, 0)));
    assertTrue(b.contains(pfn));
    assertEquals(0, b.isolatedPages());
    assertEquals(1, a.event(VmEvent.PGMIGRATE_FAIL));
    InvariantChecker.check(a);
  }

  @Test
  void shouldLetContiguousAllocationMoveBalloonPagesOutOfTheRange() {
    PageAllocator a = new PageAllocator(MmConfig.forMemory(64L << 20));
    List<int[]> told = new ArrayList<>();
    BalloonDevInfo b = new BalloonDevInfo(a, (n, o) -> {
      told.add(new int[] {n, o});
      return 0;
    });
    int first = b.inflateOne(0);
    for (int i = 0; i < 200; i++) {
      b.inflateOne(0);
    }
    int block = first & -PB;
    ContigAlloc contig = new ContigAlloc(a, new PageIsolation(a));
    assertEquals(0, contig.allocContigRange(0, block, block + PB, false));
    for (int pfn : b.pfns()) {
      assertTrue(pfn < block || pfn >= block + PB, "balloon page " + pfn + " left in the range");
    }
    assertEquals(201, b.size());
    assertFalse(told.isEmpty());
    InvariantChecker.check(a);
  }
}
