package io.hintlab.host.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MigrationBitmapTest {

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4})
  void roundsSendAllMinusHintsThenOnlyWhatWasDirtied(long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int pages = 100 + rnd.nextInt(200);
    MigrationBitmap bmap = new MigrationBitmap(pages);
    assertEquals(pages, bmap.count(), "seed " + seed);
    BitSet hinted = new BitSet();
    for (int i = 0; i < pages / 3; i++) {
      int pfn = rnd.nextInt(pages);
      assertEquals(!hinted.get(pfn), bmap.clear(pfn), "seed " + seed + " pfn " + pfn);
      hinted.set(pfn);
    }
    BitSet sent = drain(bmap);
    BitSet expected = new BitSet();
    expected.set(0, pages);
    expected.andNot(hinted);
    assertEquals(expected, sent, "seed " + seed + " round 0");

    long[] dirty = new long[(pages + 63) >>> 6];
    BitSet dirtied = new BitSet();
    for (int i = 0; i < 10; i++) {
      int pfn = rnd.nextInt(pages);
      dirty[pfn >>> 6] |= 1L << pfn;
      dirtied.set(pfn);
    }
    bmap.merge(dirty);
    assertEquals(dirtied, drain(bmap), "seed " + seed + " round 1");
    assertEquals(0, bmap.count(), "seed " + seed);
  }

  @Test
  void tailBitsBeyondLastPageAreNeverSet() {
    MigrationBitmap bmap = new MigrationBitmap(65);
    assertEquals(65, bmap.count());
    assertTrue(bmap.isSet(64));
    assertTrue(bmap.clear(64));
    assertFalse(bmap.isSet(64));
    assertEquals(64, bmap.count());
    assertEquals(-1, bmap.takeNext(64));
  }

  @Test
  void rejectsBadArguments() {
    assertThrows(IllegalArgumentException.class, () -> new MigrationBitmap(0));
    MigrationBitmap bmap = new MigrationBitmap(10);
    assertThrows(IllegalArgumentException.class, () -> bmap.clear(10));
    assertThrows(IllegalArgumentException.class, () -> bmap.isSet(-1));
    assertThrows(IllegalArgumentException.class, () -> bmap.takeNext(-1));
    assertThrows(IllegalArgumentException.class, () -> bmap.merge(new long[2]));
  }

  private static BitSet drain(MigrationBitmap bmap) {
    BitSet out = new BitSet();
    for (int pfn = bmap.takeNext(0); pfn >= 0; pfn = bmap.takeNext(pfn + 1)) {
      out.set(pfn);
    }
    return out;
  }
}
