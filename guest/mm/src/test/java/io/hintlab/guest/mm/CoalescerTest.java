package io.hintlab.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The 2005 coalesce_memory() defragmenter, and the slow path using it instead of compaction. */
class CoalescerTest {

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {1L, 13L, 500L})
  void buildsFreeBlocksOfTheTargetOrderByMovingNeighbours(long seed) {
    TrackingOwner[] o = new TrackingOwner[1];
    PageAllocator a = CompactionTest.fragmented(new SplittableRandom(seed), o);
    // thin the zone out so that some regions hold few busy pages
    for (int i = o[0].size() - 1; i >= 0; i -= 3) {
      o[0].freeAt(0, i);
    }
    Zone z = a.zone(ZoneType.DMA32);
    long before = CompactionTest.order9Blocks(a);
    Coalescer co = new Coalescer(a);
    int built = co.coalesce(0, z, 9, 3);
    Coalescer.Stats s = co.stats();
    assertEquals(3, built, "seed " + seed + ": " + s);
    assertEquals(built, s.success(), "seed " + seed);
    assertTrue(CompactionTest.order9Blocks(a) >= before + 3, "seed " + seed);
    assertEquals(s.migrated(), a.event(VmEvent.PGMIGRATE_SUCCESS), "seed " + seed);
    assertEquals(o[0].migrations, s.migrated(), "seed " + seed);
    assertTrue(s.candidates() >= s.success() + s.fail() - 0 && s.scanned() > 0, "seed " + seed);
    CompactionTest.checkAll(a, seed, o[0]);
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {2L, 8L})
  void aRegionWithAnUnmovablePageIsLeftAlone(long seed) {
    PageAllocator a = new PageAllocator(MmConfig.forMemory(64L << 20));
    TrackingOwner owner = new TrackingOwner(a, false);
    owner.fill(Gfp.GFP_HIGHUSER_MOVABLE);
    owner.freeRandomHalf(new SplittableRandom(seed));
    // one unmovable page in every order-6 region: no order-6 block can be built
    a.drainAllPages(null);
    Zone z = a.zone(ZoneType.DMA32);
    int pinned = 0;
    for (int region = z.startPfn(); region < z.endPfn(); region += 64) {
      for (int p = region; p < region + 64; p++) {
        if (a.memMap().kind(p) == MemMap.K_ALLOC) {
          int h = -1;
          for (int i = 0; i < owner.size(); i++) {
            if (owner.pfnOf(owner.handleAt(i)) == p) {
              h = i;
              break;
            }
          }
          owner.freeAt(0, h);
          a.drainAllPages(null);
          int u = a.allocPages(0, 0, Gfp.GFP_KERNEL | Gfp.__GFP_DMA32);
          pinned += u >= 0 ? 1 : 0;
          break;
        }
      }
      if (pinned > 20) {
        break;
      }
    }
    Coalescer co = new Coalescer(a);
    co.coalesce(0, z, 6, 1000);
    CompactionTest.checkAll(a, seed, owner);
    assertTrue(co.stats().candidates() > 0, "seed " + seed);
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {4L, 70L})
  void theCoalescePolicyMakesAFailingOrder9AllocationSucceed(long seed) {
    TrackingOwner[] o = new TrackingOwner[1];
    PageAllocator a = CompactionTest.fragmented(new SplittableRandom(seed), o);
    for (int i = o[0].size() - 1; i >= 0; i -= 2) {
      o[0].freeAt(0, i);
    }
    a.drainAllPages(null);
    assertEquals(0, CompactionTest.order9Blocks(a), "seed " + seed);
    Compaction c = a.setCompaction(CompactionPolicy.COALESCE);
    int h = o[0].alloc(0, 9, Gfp.GFP_HIGHUSER_MOVABLE);
    assertTrue(h >= 0, "seed " + seed + ": " + c.coalescer().stats());
    assertEquals(0, a.event(VmEvent.COMPACT_STALL), "seed " + seed + ": compaction did not run");
    assertTrue(c.coalescer().stats().success() >= 1, "seed " + seed);
    CompactionTest.checkAll(a, seed, o[0]);
  }

  @Test
  void rejectsBadOrders() {
    PageAllocator a = new PageAllocator(MmConfig.forMemory(64L << 20));
    Coalescer co = new Coalescer(a);
    Zone z = a.zone(ZoneType.DMA32);
    assertThrows(IllegalArgumentException.class, () -> co.coalesce(0, z, 0, 1));
    assertThrows(IllegalArgumentException.class, () -> co.coalesce(0, z, 11, 1));
  }
}
