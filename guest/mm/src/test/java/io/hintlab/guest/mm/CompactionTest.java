package io.hintlab.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Compaction (mm/compaction.c) on fragmented zones: scanners, balloon pages, refusals. */
class CompactionTest {
  static final long MEMORY = 64L << 20;

  /** Free blocks of order 9 or more, counted in order-9 units, after draining the pcp lists. */
  static long order9Blocks(PageAllocator a) {
    a.drainAllPages(null);
    long n = 0;
    for (Zone z : a.zones()) {
      for (int o = 9; o < a.geometry().nrPageOrders(); o++) {
        n += z.nrFree(o) << (o - 9);
      }
    }
    return n;
  }

  /**
   * A guest whose memory is all movable order-0 pages of owner, a random half freed. A small
   * min_free_kbytes keeps the reserve below the watermarks (which the fill cannot reach) small
   * enough to hold no free pageblock.
   */
  static PageAllocator fragmented(SplittableRandom r, TrackingOwner[] out) {
    PageAllocator a =
        new PageAllocator(MmConfig.builder().memory(MEMORY).minFreeKbytes(128).build());
    TrackingOwner owner = new TrackingOwner(a, false);
    owner.fill(Gfp.GFP_HIGHUSER_MOVABLE);
    owner.freeRandomHalf(r);
    out[0] = owner;
    return a;
  }

  static void checkAll(PageAllocator a, long seed, TrackingOwner... owners) {
    List<String> v = InvariantChecker.violations(a);
    assertTrue(v.isEmpty(), "seed " + seed + ": " + v);
    for (TrackingOwner o : owners) {
      assertEquals(List.of(), o.violations(), "seed " + seed);
    }
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {1L, 5L, 2024L})
  void compactMemoryRaisesTheNumberOfFreeOrder9Blocks(long seed) {
    TrackingOwner[] o = new TrackingOwner[1];
    PageAllocator a = fragmented(new SplittableRandom(seed), o);
    long before = order9Blocks(a);
    long migratedBefore = a.event(VmEvent.PGMIGRATE_SUCCESS);
    a.compaction().compactMemory(0);
    long after = order9Blocks(a);
    assertTrue(after > before + 5, "seed " + seed + ": order-9 blocks " + before + " -> " + after);
    assertTrue(a.event(VmEvent.PGMIGRATE_SUCCESS) > migratedBefore, "seed " + seed);
    assertTrue(a.event(VmEvent.COMPACT_MIGRATE_SCANNED) > 0, "seed " + seed);
    assertTrue(a.event(VmEvent.COMPACT_FREE_SCANNED) > 0, "seed " + seed);
    assertTrue(a.event(VmEvent.COMPACT_ISOLATED) > 0, "seed " + seed);
    assertEquals(o[0].migrations, a.event(VmEvent.PGMIGRATE_SUCCESS) - migratedBefore,
        "seed " + seed + ": the owner was told of every move");
    checkAll(a, seed, o[0]);
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {3L, 17L})
  void aBalloonPageIsMigratedThroughItsCallbacks(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    TrackingOwner[] o = new TrackingOwner[1];
    PageAllocator a = fragmented(r, o);
    TrackingOwner balloon = new TrackingOwner(a, true);
    Map<Integer, Integer> before = new HashMap<>();
    for (int i = 0; i < 300; i++) {
      int h = balloon.alloc(0, 0, Gfp.GFP_HIGHUSER_MOVABLE);
      assertTrue(h >= 0, "seed " + seed);
      before.put(h, balloon.pfnOf(h));
      assertEquals(MemMap.AUX_MOVABLE_OPS, a.memMap().aux(balloon.pfnOf(h)));
    }
    a.compaction().compactMemory(0);
    assertTrue(balloon.isolations > 0 && balloon.migrations > 0,
        "seed " + seed + ": isolate " + balloon.isolations + " migrate " + balloon.migrations);
    int moved = 0;
    for (int i = 0; i < balloon.size(); i++) {
      int h = balloon.handleAt(i);
      int p = balloon.pfnOf(h);
      assertEquals(MemMap.AUX_MOVABLE_OPS, a.memMap().aux(p), "seed " + seed + " still movable_ops");
      if (p != before.get(h)) {
        moved++;
      }
    }
    assertEquals(balloon.migrations, moved, "seed " + seed);
    checkAll(a, seed, o[0], balloon);
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {4L, 99L})
  void aPageWhoseOwnerRefusesIsolationStaysAndCompactionFinishes(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    TrackingOwner[] o = new TrackingOwner[1];
    PageAllocator a = fragmented(r, o);
    TrackingOwner owner = o[0];
    Map<Integer, Integer> pinned = new HashMap<>();
    for (int i = 0; i < owner.size(); i++) {
      if (r.nextInt(10) == 0) {
        int h = owner.handleAt(i);
        owner.setRefuse(h, true);
        pinned.put(h, owner.pfnOf(h));
      }
    }
    long before = order9Blocks(a);
    a.compaction().compactMemory(0);
    for (Map.Entry<Integer, Integer> e : pinned.entrySet()) {
      assertEquals(e.getValue(), owner.pfnOf(e.getKey()), "seed " + seed + ": a pinned page moved");
    }
    assertTrue(owner.refusals > 0 && owner.migrations > 0, "seed " + seed);
    assertTrue(order9Blocks(a) >= before, "seed " + seed);
    checkAll(a, seed, owner);
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {8L, 21L, 600L})
  void directCompactionMakesAFailingOrder9AllocationSucceed(long seed) {
    TrackingOwner[] o = new TrackingOwner[1];
    PageAllocator a = fragmented(new SplittableRandom(seed), o);
    TrackingOwner owner = o[0];
    assertEquals(-1, owner.alloc(0, 9, Gfp.GFP_HIGHUSER_MOVABLE),
        "seed " + seed + ": without compaction the order-9 allocation fails");
    a.setCompaction(CompactionPolicy.DIRECT);
    int h = owner.alloc(0, 9, Gfp.GFP_HIGHUSER_MOVABLE);
    assertTrue(h >= 0, "seed " + seed + ": with direct compaction it succeeds");
    assertEquals(0, owner.pfnOf(h) % 512, "seed " + seed);
    assertTrue(a.event(VmEvent.COMPACT_STALL) >= 1, "seed " + seed);
    assertEquals(1, a.event(VmEvent.COMPACT_SUCCESS), "seed " + seed);
    assertTrue(a.event(VmEvent.PGMIGRATE_SUCCESS) > 0, "seed " + seed);
    checkAll(a, seed, owner);
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {2L, 31L})
  void transhugeLightDoesNotCompactButKcompactdWokenByKswapdDoes(long seed) {
    TrackingOwner[] o = new TrackingOwner[1];
    PageAllocator a = fragmented(new SplittableRandom(seed), o);
    TrackingOwner owner = o[0];
    a.setCompaction(CompactionPolicy.KERNEL);
    assertEquals(-1, owner.alloc(0, 9, Gfp.GFP_TRANSHUGE_LIGHT), "seed " + seed);
    assertEquals(0, a.event(VmEvent.COMPACT_STALL), "seed " + seed + ": no direct reclaim");
    // an order-9 request that may wake kswapd but not compact itself
    int wakeGfp = Gfp.GFP_TRANSHUGE_LIGHT | Gfp.__GFP_KSWAPD_RECLAIM;
    assertEquals(-1, owner.alloc(0, 9, wakeGfp), "seed " + seed);
    a.kswapdBalance(); // kswapd goes to sleep and wakes kcompactd for order 9
    assertEquals(9, a.compaction().kcompactd().requestedOrder(), "seed " + seed);
    a.compaction().kcompactd().tick(0);
    assertEquals(1, a.event(VmEvent.COMPACT_DAEMON_WAKE), "seed " + seed);
    assertTrue(a.event(VmEvent.COMPACT_DAEMON_MIGRATE_SCANNED) > 0, "seed " + seed);
    assertEquals(0, a.compaction().kcompactd().requestedOrder(), "seed " + seed);
    assertTrue(owner.alloc(0, 9, Gfp.GFP_TRANSHUGE_LIGHT) >= 0, "seed " + seed);
    checkAll(a, seed, owner);
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {6L, 12L})
  void proactiveCompactionLowersTheFragmentationScore(long seed) {
    TrackingOwner[] o = new TrackingOwner[1];
    PageAllocator a = fragmented(new SplittableRandom(seed), o);
    a.drainAllPages(null);
    Compaction c = a.setCompaction(CompactionPolicy.PROACTIVE);
    int before = c.fragmentationScoreNode();
    assertTrue(before > c.fragmentationScoreWmark(false), "seed " + seed + ": score " + before);
    c.kcompactd().tick(0);
    a.drainAllPages(null);
    int after = c.fragmentationScoreNode();
    assertTrue(after < before, "seed " + seed + ": score " + before + " -> " + after);
    assertTrue(a.event(VmEvent.COMPACT_DAEMON_MIGRATE_SCANNED) > 0, "seed " + seed);
    assertEquals(0, a.event(VmEvent.COMPACT_DAEMON_WAKE), "seed " + seed + ": not woken");
    for (Zone z : a.zones()) {
      assertTrue(c.fragmentationScoreZone(z) <= c.fragmentationScoreWmark(true) + 5,
          "seed " + seed + " " + z + " score " + c.fragmentationScoreZone(z));
    }
    checkAll(a, seed, o[0]);
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {10L})
  void offLeavesTheSlowPathAlone(long seed) {
    TrackingOwner[] o = new TrackingOwner[1];
    PageAllocator a = fragmented(new SplittableRandom(seed), o);
    a.setCompaction(CompactionPolicy.OFF);
    assertEquals(-1, o[0].alloc(0, 9, Gfp.GFP_HIGHUSER_MOVABLE), "seed " + seed);
    assertEquals(0, a.event(VmEvent.COMPACT_STALL) + a.event(VmEvent.PGMIGRATE_SUCCESS),
        "seed " + seed);
    assertNotEquals(null, a.compaction().state(a.zone(ZoneType.DMA32)));
    assertFalse(a.compaction().policy().enabled());
  }
}
