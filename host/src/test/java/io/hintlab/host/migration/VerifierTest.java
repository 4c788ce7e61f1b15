package io.hintlab.host.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class VerifierTest {
  private static final int PAGE = 4096;
  private static final int PAGES = 128;

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4})
  void ownedPagesThatDifferAreCorruptedAndExplained(long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    try (Arena a = Arena.ofConfined()) {
      MemorySegment src = a.allocate((long) PAGES * PAGE);
      MemorySegment dst = a.allocate((long) PAGES * PAGE);
      byte[] owned = new byte[PAGES / 8];
      long[] data = new long[PAGES / 64];
      PageLedger ledger = new PageLedger(PAGES);
      ledger.merge(new long[PAGES / 64], false);
      ledger.openEpoch(0x80000000);
      int ownedCount = 0;
      int corrupt = 0;
      int flaggedCorrupt = 0;
      for (int pfn = 0; pfn < PAGES; pfn++) {
        boolean hole = rnd.nextInt(4) == 0;
        if (!hole) {
          data[pfn >>> 6] |= 1L << pfn;
          src.set(ValueLayout.JAVA_LONG, (long) pfn * PAGE, 0x1000L + pfn);
          dst.set(ValueLayout.JAVA_LONG, (long) pfn * PAGE, 0x1000L + pfn);
        }
        if (rnd.nextBoolean()) {
          owned[pfn >>> 3] |= (byte) (1 << (pfn & 7));
          ownedCount++;
          if (rnd.nextInt(5) == 0) { // damage the destination copy
            dst.set(ValueLayout.JAVA_LONG, (long) pfn * PAGE + 8, 0xbad);
            corrupt++;
            if (rnd.nextBoolean()) {
              ledger.hint(pfn, 1, 0x7fffffff, false); // not the epoch's id: flagged
              flaggedCorrupt++;
            }
          }
        }
      }
      Verification v = Verifier.verify(src, dst, PAGE, owned, data, ledger);
      String where = "seed " + seed;
      assertEquals(ownedCount, v.ownedPages(), where);
      assertEquals(corrupt, v.corruptedPages(), where);
      assertEquals(flaggedCorrupt, v.detectorHits(), where);
      assertEquals(corrupt - flaggedCorrupt, v.detectorMisses(), where);
      assertEquals(flaggedCorrupt, v.corrupted(CorruptionCause.HINT_AFTER_LAST_WRITE), where);
      assertEquals(corrupt - flaggedCorrupt, v.corrupted(CorruptionCause.NEVER_SENT), where);
      assertEquals(0, v.detectorFalseAlarms(), where);
      assertEquals(Math.min(corrupt, Verification.MAX_SAMPLES), v.samples().size(), where);
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {5, 6})
  void flaggedPagesThatSurvivedAreFalseAlarmsAndBitsBeyondTheGuestAreIgnored(long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    try (Arena a = Arena.ofConfined()) {
      MemorySegment src = a.allocate((long) PAGES * PAGE);
      MemorySegment dst = a.allocate((long) PAGES * PAGE);
      PageLedger ledger = new PageLedger(PAGES);
      int flagged = 1 + rnd.nextInt(10);
      for (int i = 0; i < flagged; i++) {
        ledger.hint(i, 1, 0x80000000, false); // no epoch open: flagged
      }
      byte[] owned = new byte[PAGES / 8 + 8];
      java.util.Arrays.fill(owned, (byte) -1); // every page, and bits past the guest's end
      Verification v = Verifier.verify(src, dst, PAGE, owned, new long[PAGES / 64], ledger);
      assertEquals(PAGES, v.ownedPages(), "seed " + seed);
      assertEquals(0, v.corruptedPages(), "seed " + seed);
      assertEquals(flagged, v.detectorFalseAlarms(), "seed " + seed);
    }
  }
}
