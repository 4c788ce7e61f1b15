package io.hintlab.host.migration;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The ground truth at stop-and-copy: compares every page the paused guest owns, source against
 * destination, byte for byte, attributes each mismatch with the ledger's provenance and scores the
 * detector. A source page inside a hole is compared against zeros without being read (a read
 * would allocate it again on tmpfs).
 */
final class Verifier {
  private Verifier() {}

  /**
   * Verifies the owned pages.
   *
   * @param owned the Paused answer's bitmap: bit {@code pfn & 63} of little-endian word
   *     {@code pfn >> 6}, as bytes; bits beyond the guest's pages are ignored
   * @param sourceData pages of the source file holding data ({@link HoleScanner#dataPages})
   */
  static Verification verify(MemorySegment source, MemorySegment destination, int pageSize,
      byte[] owned, long[] sourceData, PageLedger ledger) {
    int pages = ledger.pages();
    long ownedPages = 0;
    long hits = 0;
    List<CorruptedPage> samples = new ArrayList<>();
    Map<CorruptionCause, Long> byCause = new EnumMap<>(CorruptionCause.class);
    for (CorruptionCause c : CorruptionCause.values()) {
      byCause.put(c, 0L);
    }
    long corrupted = 0;
    int limit = (int) Math.min(owned.length, ((long) pages + 7) >>> 3);
    for (int i = 0; i < limit; i++) {
      int b = owned[i] & 0xff;
      for (; b != 0; b &= b - 1) {
        int pfn = (i << 3) + Integer.numberOfTrailingZeros(b);
        if (pfn >= pages) {
          break;
        }
        ownedPages++;
        if (intact(source, destination, pageSize, pfn, sourceData)) {
          continue;
        }
        corrupted++;
        CorruptedPage c = ledger.explain(pfn);
        byCause.merge(c.cause(), 1L, Long::sum);
        hits += c.detected() ? 1 : 0;
        if (samples.size() < Verification.MAX_SAMPLES) {
          samples.add(c);
        }
      }
    }
    long flagged = ledger.flaggedPages();
    return new Verification(ownedPages, corrupted, byCause, flagged, hits, corrupted - hits,
        flagged - hits, samples);
  }

  private static boolean intact(MemorySegment source, MemorySegment destination, int pageSize,
      int pfn, long[] sourceData) {
    long off = (long) pfn * pageSize;
    MemorySegment dst = destination.asSlice(off, pageSize);
    if ((sourceData[pfn >>> 6] & (1L << pfn)) == 0) {
      return PageSender.isZero(dst); // the source page is a hole: zeros, not to be read
    }
    return source.asSlice(off, pageSize).mismatch(dst) == -1;
  }
}
