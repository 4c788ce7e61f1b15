package io.hintlab.host.migration;

/**
 * The per-page state one migration shares between its thread and the hint sink: the
 * {@link MigrationBitmap}, the {@link Provenance}, the detector's flags, the round number and the
 * hinting epoch (the command id issued after the latest bitmap sync).
 *
 * <p>Locking: every method synchronizes on the ledger, the analogue of QEMU's bitmap_mutex, which
 * both qemu_guest_free_page_hint() and migration_bitmap_sync() take. So a hint's epoch check and
 * its clearing of bits are atomic with respect to a sync. Lock order: the device's
 * FreePageHinting lock, then the ledger, then the bitmap and provenance (leaf locks).
 */
final class PageLedger {
  /** No epoch open: a sync closed it and no id was issued since. */
  static final long NO_EPOCH = -1;

  private final int pages;
  private final MigrationBitmap bitmap;
  private final Provenance provenance;
  private final long[] flagged;
  private int round;
  private long epochId = NO_EPOCH; // unsigned cmd id, or NO_EPOCH
  private long roundSkipped;
  private long skippedTotal;
  private long hintedPages;
  private long flaggedPages;

  /** What a sync merged, and the hint savings of the round it ended. */
  record Merge(long dirtyPages, long skippedInEndedRound) {}

  /** What one hinted range did. */
  record HintEffect(long cleared, long flagged) {}

  PageLedger(int pages) {
    this.pages = pages;
    this.bitmap = new MigrationBitmap(pages);
    this.provenance = new Provenance(pages);
    this.flagged = new long[(pages + 63) >>> 6];
  }

  /** Number of pages. */
  int pages() {
    return pages;
  }

  /** The current round. */
  synchronized int round() {
    return round;
  }

  /** Claims the next page to send at or after {@code from} (clears its bit), or -1. */
  synchronized int takeNext(int from) {
    return bitmap.takeNext(from);
  }

  /** Records that {@code pfn} was just copied to the destination in the current round. */
  synchronized void sent(int pfn) {
    provenance.sent(pfn, round);
  }

  /**
   * Stage two of migration_bitmap_sync() (ramblock_sync_dirty_bitmap()): ORs the fetched dirty
   * words into the bitmap, records each page in the provenance, closes the hinting epoch and, with
   * {@code advance}, starts the next round.
   *
   * @param dirty words in the dirty log's layout; read only
   */
  synchronized Merge merge(long[] dirty, boolean advance) {
    long skipped = roundSkipped;
    roundSkipped = 0;
    if (advance) {
      round++;
    }
    bitmap.merge(dirty);
    long n = 0;
    for (int w = 0; w < dirty.length; w++) {
      for (long bits = dirty[w]; bits != 0; bits &= bits - 1) {
        provenance.dirtied((w << 6) + Long.numberOfTrailingZeros(bits), round);
        n++;
      }
    }
    epochId = NO_EPOCH;
    return new Merge(n, skipped);
  }

  /** Opens the epoch of {@code cmdId}, issued right after the latest sync. */
  synchronized void openEpoch(int cmdId) {
    epochId = Integer.toUnsignedLong(cmdId);
  }

  /**
   * Mirrors qemu_guest_free_page_hint(): clears the bits of {@code [pfn, pfn + nrPages)} (never
   * sets any), records each cleared bit in the provenance, and flags it for the detector when
   * {@code cmdId} is not the epoch's id (it was issued before the latest sync).
   *
   * @param staleId the device admitted the range only because stale ids were accepted
   */
  synchronized HintEffect hint(long pfn, long nrPages, int cmdId, boolean staleId) {
    boolean fresh = Integer.toUnsignedLong(cmdId) == epochId;
    long cleared = 0;
    long unsafe = 0;
    for (long p = pfn, end = pfn + nrPages; p < end; p++) {
      int page = (int) p;
      if (bitmap.clear(page)) {
        cleared++;
        provenance.hinted(page, round, cmdId, staleId);
        if (!fresh) {
          long bit = 1L << page;
          if ((flagged[page >>> 6] & bit) == 0) {
            flagged[page >>> 6] |= bit;
            flaggedPages++;
          }
          unsafe++;
        }
      }
    }
    hintedPages += nrPages;
    roundSkipped += cleared;
    skippedTotal += cleared;
    return new HintEffect(cleared, unsafe);
  }

  /** Pages still to send (the remaining dirty set; hinted pages no longer count). */
  synchronized long remaining() {
    return bitmap.count();
  }

  /** Bits hints cleared while set, over the whole migration. */
  synchronized long skippedTotal() {
    return skippedTotal;
  }

  /** Pages in hinted ranges applied, over the whole migration. */
  synchronized long hintedPages() {
    return hintedPages;
  }

  /** Pages the detector flagged. */
  synchronized long flaggedPages() {
    return flaggedPages;
  }

  /** Whether the detector flagged {@code pfn}. */
  synchronized boolean isFlagged(int pfn) {
    return (flagged[pfn >>> 6] & (1L << pfn)) != 0;
  }

  /** Describes the corruption of {@code pfn} from its history. */
  synchronized CorruptedPage explain(int pfn) {
    return new CorruptedPage(pfn, provenance.attribute(pfn), provenance.lastSentRound(pfn),
        provenance.lastHintId(pfn), isFlagged(pfn));
  }
}
