package io.hintlab.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.PageIsolation.Mode;
import org.junit.jupiter.api.Test;

/** Page isolation (mm/page_isolation.c, v6.16+ isolate bit; unaligned ranges since v5.19). */
class PageIsolationTest {
  private static final int PB = 512;

  /** A 64 MiB guest: DMA [1, 4096), DMA32 [4096, 16384), all free at boot in order-10 blocks. */
  private static PageAllocator boot() {
    return new PageAllocator(MmConfig.forMemory(64L << 20));
  }

  private static Zone dma32(PageAllocator a) {
    return a.zone(ZoneType.DMA32);
  }

  @Test
  void shouldSplitFreeBuddiesStraddlingBothEndsOfAnUnalignedRange() {
    // start_isolate_page_range() -> isolate_single_pageblock() -> __move_freepages_block_isolate():
    // the order-10 buddies at 8192 and 9216 each cover two pageblocks; [8804, 9516) touches the
    // second half of the first and the first half of the second, and only those are isolated.
    PageAllocator a = boot();
    PageIsolation iso = new PageIsolation(a);
    Zone z = dma32(a);
    int start = 8704 + 100; // second half of the order-10 buddy at 8192
    int end = 9216 + 300; // first half of the order-10 buddy at 9216
    long freeBefore = z.freePages();
    assertEquals(0, iso.startIsolatePageRange(0, start, end, Mode.OTHER));
    // Pageblocks 8704 and 9216 are isolated; their buddies (8192, 9728) are not.
    assertTrue(a.memMap().isPageblockIsolated(8704));
    assertTrue(a.memMap().isPageblockIsolated(9216));
    assertFalse(a.memMap().isPageblockIsolated(8192));
    assertFalse(a.memMap().isPageblockIsolated(9728));
    // Each order-10 buddy was split per pageblock: the isolated halves sit on the ISOLATE list.
    assertEquals(2, z.freeListLength(9, MigrateType.ISOLATE));
    assertEquals(2, z.freeListLength(9, MigrateType.MOVABLE));
    assertEquals(freeBefore - 2 * PB, z.freePages(), "isolated pages are not free pages");
    assertEquals(2, z.isolatedPageblocks());
    InvariantChecker.check(a);
    // test_pages_isolated() walks PageBuddy heads from start: an unaligned start inside a free
    // block is not a head, so the kernel says -EBUSY (alloc_contig_range() therefore tests from
    // find_large_buddy(start)); from the blocks' heads every pfn is in a free buddy.
    assertEquals(-Errno.EBUSY, iso.testPagesIsolated(start, end, Mode.OTHER));
    assertEquals(0, iso.testPagesIsolated(8704, 9728, Mode.OTHER));

    iso.undoIsolatePageRange(start, end);
    assertEquals(freeBefore, z.freePages());
    assertEquals(0, z.freeListLength(9, MigrateType.ISOLATE));
    assertEquals(0, z.isolatedPageblocks());
    assertEquals(0, z.freeListLength(9, MigrateType.MOVABLE), "undo lets the halves merge again");
    InvariantChecker.check(a);
  }

  @Test
  void shouldReturnEbusyForADoubleIsolationAndUndoCleanly() {
    // set_migratetype_isolate(): "someone else raced and isolated it" -> -EBUSY
    PageAllocator a = boot();
    PageIsolation iso = new PageIsolation(a);
    assertEquals(0, iso.startIsolatePageRange(0, 8192, 8192 + 3 * PB, Mode.OTHER));
    long freeIsolated = dma32(a).freePages();
    assertEquals(-Errno.EBUSY, iso.startIsolatePageRange(0, 8192 + PB, 8192 + 5 * PB, Mode.OTHER));
    assertEquals(1, iso.ebusyCount());
    // The failed attempt isolated nothing of its own: only the first three blocks stay isolated.
    assertFalse(a.memMap().isPageblockIsolated(8192 + 3 * PB));
    assertFalse(a.memMap().isPageblockIsolated(8192 + 4 * PB));
    assertEquals(freeIsolated, dma32(a).freePages());
    assertEquals(3, dma32(a).isolatedPageblocks());
    InvariantChecker.check(a);
    iso.undoIsolatePageRange(8192, 8192 + 3 * PB);
    assertEquals(0, dma32(a).isolatedPageblocks());
    InvariantChecker.check(a);
  }

  @Test
  void shouldRefuseAPageblockHoldingAnUnmovablePage() {
    // has_unmovable_pages(): an UNMOVABLE allocation in the block fails the isolation.
    PageAllocator a = boot();
    PageIsolation iso = new PageIsolation(a);
    int pfn = a.allocPages(0, 3, Gfp.GFP_KERNEL);
    assertTrue(pfn >= 0);
    int block = pfn & -PB;
    long free = a.freePages();
    assertEquals(-Errno.EBUSY, iso.startIsolatePageRange(0, block, block + PB, Mode.OTHER));
    assertFalse(a.memMap().isPageblockIsolated(block));
    assertEquals(free, a.freePages());
    InvariantChecker.check(a);
  }

  @Test
  void shouldAcceptMovablePagesAndFailTheTestUntilTheyAreGone() {
    PageAllocator a = boot();
    PageIsolation iso = new PageIsolation(a);
    int pfn = a.allocPages(0, 0, Gfp.GFP_HIGHUSER_MOVABLE);
    int block = pfn & -PB;
    assertEquals(0, iso.startIsolatePageRange(0, block, block + PB, Mode.OTHER));
    assertEquals(-Errno.EBUSY, iso.testPagesIsolated(block, block + PB, Mode.OTHER));
    a.drainAllPages(null); // the rest of the pcp batch goes back to the ISOLATE list
    assertEquals(-Errno.EBUSY, iso.testPagesIsolated(block, block + PB, Mode.OTHER),
        "the movable page is still allocated");
    a.freePages(0, pfn, 0); // frees straight to the ISOLATE list: the block is isolated
    assertEquals(MemMap.K_BUDDY, a.memMap().kind(pfn));
    assertEquals(0, iso.testPagesIsolated(block, block + PB, Mode.OTHER));
    InvariantChecker.check(a);
    iso.undoIsolatePageRange(block, block + PB);
    InvariantChecker.check(a);
  }

  @Test
  void shouldMigrateAMovableBlockStraddlingTheRangeEdge() {
    // isolate_single_pageblock() (v5.19-v6.9): a movable compound page across the boundary is
    // migrated out of the way first.
    PageAllocator a = boot();
    PageIsolation iso = new PageIsolation(a);
    int pfn = a.allocPages(0, 10, Gfp.GFP_HIGHUSER_MOVABLE);
    assertTrue(pfn >= 0);
    // Isolate only the second pageblock of the order-10 block.
    assertEquals(0, iso.startIsolatePageRange(0, pfn + PB, pfn + 2 * PB, Mode.OTHER));
    assertEquals(1, a.event(VmEvent.PGMIGRATE_SUCCESS) / 1024);
    assertEquals(0, iso.testPagesIsolated(pfn + PB, pfn + 2 * PB, Mode.OTHER));
    InvariantChecker.check(a);
  }

  @Test
  void shouldRejectARangeOutsideOneZone() {
    PageAllocator a = boot();
    PageIsolation iso = new PageIsolation(a);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> iso.startIsolatePageRange(0, 4000, 4200, Mode.OTHER));
    assertEquals("range [4000, 4200) is not inside one populated zone", e.getMessage());
  }
}
