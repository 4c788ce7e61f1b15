package io.hintlab.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Deferral, skip hints and compaction_suitable() (mm/compaction.c). */
class CompactionDeferralTest {
  private static final int ORDER = 9;

  @Test
  void deferralSkipsUpToOneShiftedByTheDeferShift() {
    PageAllocator a = new PageAllocator(MmConfig.forMemory(64L << 20));
    ZoneCompaction zc = a.compaction().state(a.zone(ZoneType.DMA32));
    assertFalse(zc.compactionDeferred(ORDER), "nothing failed yet");
    assertEquals(0, zc.orderFailed(), "at first every order may be deferred");
    zc.compactionDeferReset(ORDER, true);
    assertEquals(ORDER + 1, zc.orderFailed());
    for (int round = 1; round <= 8; round++) {
      zc.deferCompaction(ORDER);
      int shift = Math.min(round, ZoneCompaction.COMPACT_MAX_DEFER_SHIFT);
      assertEquals(shift, zc.deferShift());
      assertEquals(ORDER, zc.orderFailed());
      int deferred = 0;
      while (zc.compactionDeferred(ORDER)) {
        deferred++;
      }
      assertEquals((1 << shift) - 1, deferred, "round " + round);
      assertEquals(1 << shift, zc.considered(), "considered is clamped at the limit");
      assertFalse(zc.compactionDeferred(ORDER - 1), "lower orders are not deferred");
    }
    assertTrue(zc.compactionRestarting(ORDER), "at the maximum shift, restarting");
    assertFalse(zc.compactionRestarting(ORDER - 1));
    zc.compactionDeferReset(ORDER, false);
    assertEquals(ORDER + 1, zc.orderFailed(), "an expected success moves order_failed up");
    assertEquals(ZoneCompaction.COMPACT_MAX_DEFER_SHIFT, zc.deferShift());
    zc.compactionDeferReset(ORDER, true);
    assertEquals(0, zc.deferShift());
    assertEquals(0, zc.considered());
    assertFalse(zc.compactionDeferred(ORDER));
  }

  /** A fragmented guest whose every movable page refuses isolation: compaction must fail. */
  private static PageAllocator stuck(long seed, TrackingOwner[] out) {
    TrackingOwner[] o = new TrackingOwner[1];
    PageAllocator a = CompactionTest.fragmented(new SplittableRandom(seed), o);
    o[0].refuseAll = true;
    out[0] = o[0];
    return a;
  }

  private static int skipMarked(PageAllocator a, Zone z) {
    int n = 0;
    for (int pfn = z.startPfn(); pfn < z.endPfn(); pfn += a.geometry().pageblockNrPages()) {
      if (a.memMap().isPageblockSkip(pfn)) {
        n++;
      }
    }
    return n;
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {1L, 77L})
  void aFailedSyncCompactionDefersAndTheDeferredCountsGrowToTheLimit(long seed) {
    TrackingOwner[] o = new TrackingOwner[1];
    PageAllocator a = stuck(seed, o);
    Compaction c = a.setCompaction(CompactionPolicy.DIRECT);
    ZoneCompaction dma32 = c.state(a.zone(ZoneType.DMA32));
    List<Integer> deferredRuns = new ArrayList<>();
    int deferred = 0;
    for (int attempt = 0; attempt < 200; attempt++) {
      CompactResult r = c.tryToCompactPages(0, Gfp.GFP_HIGHUSER_MOVABLE, ORDER,
          AllocFlags.ALLOC_WMARK_MIN, CompactPriority.SYNC_LIGHT);
      if (r == CompactResult.DEFERRED) {
        deferred++;
        continue;
      }
      assertTrue(r == CompactResult.PARTIAL_SKIPPED || r == CompactResult.COMPLETE,
          "seed " + seed + ": attempt " + attempt + " gave " + r);
      if (attempt > 0) {
        deferredRuns.add(deferred);
      }
      deferred = 0;
    }
    assertEquals(List.of(1, 3, 7, 15, 31, 63), deferredRuns.subList(0, 6), "seed " + seed);
    assertEquals(ZoneCompaction.COMPACT_MAX_DEFER_SHIFT, dma32.deferShift(), "seed " + seed);
    assertEquals(0, dma32.orderFailed(), "seed " + seed + ": never raised by a success");
    assertTrue(o[0].refusals > 0, "seed " + seed);
    CompactionTest.checkAll(a, seed, o[0]);
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {2L, 40L})
  void skipBitsAreSetWhenABlockYieldsNothingAndClearedWhenKswapdSleeps(long seed) {
    TrackingOwner[] o = new TrackingOwner[1];
    PageAllocator a = stuck(seed, o);
    Compaction c = a.setCompaction(CompactionPolicy.DIRECT);
    Zone z = a.zone(ZoneType.DMA32);
    ZoneCompaction zc = c.state(z);
    assertEquals(0, skipMarked(a, z));
    CompactResult r = c.tryToCompactPages(0, Gfp.GFP_HIGHUSER_MOVABLE, ORDER,
        AllocFlags.ALLOC_WMARK_MIN, CompactPriority.ASYNC);
    assertTrue(r == CompactResult.PARTIAL_SKIPPED || r == CompactResult.COMPLETE,
        "seed " + seed + ": " + r);
    int marked = skipMarked(a, z);
    int blocks = z.spannedPages() / a.geometry().pageblockNrPages();
    assertTrue(marked >= blocks - 2, "seed " + seed + ": " + marked + " of " + blocks);
    assertTrue(zc.blockskipFlush(), "seed " + seed + ": the scanners met in direct compaction");
    assertEquals(0, zc.deferShift(), "seed " + seed + ": async compaction does not defer");
    // A second run passes the skip-marked blocks by.
    long scanned = a.event(VmEvent.COMPACT_MIGRATE_SCANNED);
    c.tryToCompactPages(0, Gfp.GFP_HIGHUSER_MOVABLE, ORDER, AllocFlags.ALLOC_WMARK_MIN,
        CompactPriority.ASYNC);
    long rescanned = a.event(VmEvent.COMPACT_MIGRATE_SCANNED) - scanned;
    assertTrue(rescanned < scanned / 10, "seed " + seed + ": " + scanned + " then " + rescanned);
    // SYNC_FULL ignores the hints.
    c.tryToCompactPages(0, Gfp.GFP_HIGHUSER_MOVABLE, ORDER, AllocFlags.ALLOC_WMARK_MIN,
        CompactPriority.SYNC_FULL);
    long full = a.event(VmEvent.COMPACT_MIGRATE_SCANNED) - scanned - rescanned;
    assertTrue(full > scanned / 2, "seed " + seed + ": SYNC_FULL scanned " + full);
    a.kswapdBalance();
    assertFalse(zc.blockskipFlush(), "seed " + seed);
    assertEquals(0, skipMarked(a, z), "seed " + seed + ": blocks with LRU or free pages reset");
    CompactionTest.checkAll(a, seed, o[0]);
  }

  /**
   * A DMA32 zone whose free memory is order-8 blocks whose buddies are allocated: order 9 fails
   * for lack of memory rather than fragmentation (fragmentation index at most 500).
   */
  private static PageAllocator lackOfMemory() {
    PageAllocator a =
        new PageAllocator(MmConfig.builder().memory(64L << 20).minFreeKbytes(128).build());
    int gfp = Gfp.GFP_HIGHUSER_MOVABLE;
    List<Integer> blocks = new ArrayList<>();
    for (int p; (p = a.allocPages(0, 8, gfp)) >= 0; ) {
      blocks.add(p);
    }
    Zone z = a.zone(ZoneType.DMA32);
    for (int p : blocks) {
      if (z.spans(p) && p % 512 == 0 && a.memMap().kind(p + 256) == MemMap.K_ALLOC) {
        a.freePages(0, p, 8);
      }
    }
    return a;
  }

  @Test
  void compactionSuitableRefusesWhenTheFragmentationIndexSaysLackOfMemory() {
    PageAllocator a = lackOfMemory();
    Compaction c = a.setCompaction(CompactionPolicy.DIRECT);
    Zone z = a.zone(ZoneType.DMA32);
    int idx = ZoneType.MOVABLE.ordinal();
    long wmark = z.wmarkPages(Zone.WMARK_MIN);
    int fragindex = c.fragmentationIndex(z, ORDER);
    assertTrue(fragindex >= 0 && fragindex <= 500, "fragmentation index " + fragindex);
    assertTrue(z.freePages() > wmark + Compaction.compactGap(ORDER) + 1000,
        "plenty of free pages: " + z.freePages());
    assertFalse(c.compactionSuitable(z, ORDER, wmark, idx));
    assertEquals(CompactResult.SKIPPED,
        c.suitAllocationOrder(z, ORDER, idx, AllocFlags.ALLOC_WMARK_MIN, false));
    // vm.extfrag_threshold below the index lets it compact
    a.setCompaction(new CompactionPolicy(true, false, false, false, 20, fragindex - 1));
    assertTrue(c.compactionSuitable(z, ORDER, wmark, idx));
    // non-costly orders ignore the index (and here a block of order 3 is free anyway)
    a.setCompaction(CompactionPolicy.DIRECT);
    assertTrue(c.compactionSuitable(z, 3, wmark, idx));
    InvariantChecker.check(a);
  }

  @Test
  void compactionSuitableNeedsTheGapAboveTheWatermark() {
    PageAllocator a = new PageAllocator(MmConfig.forMemory(64L << 20));
    Compaction c = a.compaction();
    Zone z = a.zone(ZoneType.DMA32);
    long free = z.freePages();
    int idx = ZoneType.MOVABLE.ordinal();
    // costly: watermark + 2 << order + (low - min) must stay below the free pages
    long costlyExtra = Compaction.compactGap(ORDER) + z.watermark(Zone.WMARK_LOW)
        - z.watermark(Zone.WMARK_MIN);
    assertTrue(c.compactionSuitableWatermark(z, ORDER, free - costlyExtra - 1, idx, free));
    assertFalse(c.compactionSuitableWatermark(z, ORDER, free - costlyExtra, idx, free));
    assertTrue(c.compactionSuitableWatermark(z, 2, free - Compaction.compactGap(2) - 1, idx, free));
    assertFalse(c.compactionSuitableWatermark(z, 2, free - Compaction.compactGap(2), idx, free));
  }
}
