package io.hintlab.host.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PageLedgerTest {
  private static final int ID = 0x80000000;

  private static long[] dirty(int pages, int... pfns) {
    long[] w = new long[(pages + 63) >>> 6];
    for (int p : pfns) {
      w[p >>> 6] |= 1L << p;
    }
    return w;
  }

  @Test
  void aHintUnderTheEpochsIdClearsBitsWithoutAFlag() {
    PageLedger l = new PageLedger(128);
    l.merge(dirty(128), false);
    l.openEpoch(ID);
    PageLedger.HintEffect e = l.hint(8, 8, ID, false);
    assertEquals(new PageLedger.HintEffect(8, 0), e);
    assertEquals(120, l.remaining());
    assertEquals(0, l.flaggedPages());
    assertEquals(8, l.skippedTotal());
  }

  @Test
  void aHintUnderAnIdIssuedBeforeTheLatestSyncIsFlagged() {
    PageLedger l = new PageLedger(128);
    l.merge(dirty(128), false);
    l.openEpoch(ID);
    for (int pfn = l.takeNext(0); pfn >= 0; pfn = l.takeNext(pfn + 1)) {
      l.sent(pfn); // round 0 sends everything
    }
    l.merge(dirty(128, 3, 4), true); // round 1: pages 3 and 4 were written
    PageLedger.HintEffect late = l.hint(0, 8, ID, false); // round 0's id, after the sync
    assertEquals(new PageLedger.HintEffect(2, 2), late);
    assertTrue(l.isFlagged(3) && l.isFlagged(4));
    assertFalse(l.isFlagged(5), "a bit already clear is not the hint's doing");
    assertEquals(CorruptionCause.HINT_AFTER_LAST_WRITE, l.explain(3).cause());
    assertEquals(ID, l.explain(3).lastHintId());
    assertEquals(0, l.explain(3).lastSentRound());
  }

  @Test
  void aStaleIdHintIsBlamedOnTheStaleId() {
    PageLedger l = new PageLedger(64);
    l.merge(dirty(64), false);
    l.openEpoch(ID + 1);
    l.hint(5, 1, ID, true);
    assertTrue(l.isFlagged(5));
    assertEquals(CorruptionCause.STALE_ID_ACCEPTED, l.explain(5).cause());
  }

  @Test
  void aNewEpochMakesItsIdFreshAgain() {
    PageLedger l = new PageLedger(64);
    l.merge(dirty(64), false);
    l.openEpoch(ID);
    l.merge(dirty(64), true);
    l.openEpoch(ID + 1);
    assertEquals(0, l.hint(0, 4, ID + 1, false).flagged());
    assertEquals(4, l.hint(4, 4, ID, false).flagged());
  }

  @Test
  void mergeCountsDirtyPagesAdvancesRoundsAndHandsOverTheRoundsSavings() {
    PageLedger l = new PageLedger(200);
    l.openEpoch(ID);
    l.hint(0, 10, ID, false);
    PageLedger.Merge m = l.merge(dirty(200, 1, 70, 199), true);
    assertEquals(new PageLedger.Merge(3, 10), m);
    assertEquals(1, l.round());
    assertEquals(new PageLedger.Merge(0, 0), l.merge(dirty(200), false));
    assertEquals(1, l.round(), "the final sync stays in the stop-and-copy round");
    assertEquals(10, l.hintedPages());
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3})
  void takeNextClaimsEverySetPageOnceInOrder(long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    int pages = 1 + rnd.nextInt(500);
    PageLedger l = new PageLedger(pages);
    l.openEpoch(ID);
    long hinted = 0;
    for (int i = 0; i < 20; i++) {
      hinted += l.hint(rnd.nextInt(pages), 1, ID, false).cleared();
    }
    int last = -1;
    long taken = 0;
    for (int pfn = l.takeNext(0); pfn >= 0; pfn = l.takeNext(pfn + 1)) {
      assertTrue(pfn > last, "seed " + seed);
      last = pfn;
      taken++;
    }
    assertEquals(pages - hinted, taken, "seed " + seed);
    assertEquals(0, l.remaining(), "seed " + seed);
  }
}
