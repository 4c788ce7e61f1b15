package io.hintlab.host.migration;

import java.util.Arrays;

/**
 * Per-page history of one migration, kept in primitive arrays indexed by pfn so that the
 * verification at stop-and-copy can say why a page is corrupted. Rounds are numbered from 0;
 * -1 means "never".
 *
 * <p>Locking: the sender, the bitmap sync and the hint sink record from different threads; every
 * method is synchronized (events are rare relative to the page copy they accompany).
 */
public final class Provenance {
  private final int[] lastSentRound;
  private final int[] lastDirtyRound;
  private final int[] lastHintRound;
  private final int[] lastHintId;
  private final boolean[] staleHint;

  /**
   * Creates an empty history for {@code pages} pages.
   *
   * @throws IllegalArgumentException if {@code pages} is not positive
   */
  public Provenance(int pages) {
    if (pages <= 0) {
      throw new IllegalArgumentException("pages must be > 0, got " + pages);
    }
    lastSentRound = filled(pages);
    lastDirtyRound = filled(pages);
    lastHintRound = filled(pages);
    lastHintId = new int[pages];
    staleHint = new boolean[pages];
  }

  private static int[] filled(int pages) {
    int[] a = new int[pages];
    Arrays.fill(a, -1);
    return a;
  }

  /** Records that {@code pfn}'s content was copied to the destination in {@code round}. */
  public synchronized void sent(int pfn, int round) {
    lastSentRound[pfn] = round;
  }

  /**
   * Records that the dirty log showed {@code pfn} written before the sync that starts
   * {@code round} (the write happened during round {@code round - 1}).
   */
  public synchronized void dirtied(int pfn, int round) {
    lastDirtyRound[pfn] = round;
  }

  /**
   * Records a hint applied to {@code pfn} during {@code round} under command id {@code id};
   * {@code stale} says the id was not the active one (only possible with that guard off).
   */
  public synchronized void hinted(int pfn, int round, int id, boolean stale) {
    lastHintRound[pfn] = round;
    lastHintId[pfn] = id;
    staleHint[pfn] = stale;
  }

  /** Round in which {@code pfn} was last sent, or -1. */
  public synchronized int lastSentRound(int pfn) {
    return lastSentRound[pfn];
  }

  /** Command id of the last hint applied to {@code pfn} (meaningful if it was hinted). */
  public synchronized int lastHintId(int pfn) {
    return lastHintId[pfn];
  }

  /**
   * Explains a mismatch of {@code pfn} found at verification. A hint counts as "after the last
   * write" when it was applied in a round at or after the one whose sync revealed the write, and
   * the page was not sent again afterwards.
   */
  public synchronized CorruptionCause attribute(int pfn) {
    int hint = lastHintRound[pfn];
    int sent = lastSentRound[pfn];
    if (hint >= 0 && hint >= sent) {
      if (staleHint[pfn]) {
        return CorruptionCause.STALE_ID_ACCEPTED;
      }
      if (hint >= lastDirtyRound[pfn] - 1) {
        return CorruptionCause.HINT_AFTER_LAST_WRITE;
      }
    }
    return sent < 0 ? CorruptionCause.NEVER_SENT : CorruptionCause.UNEXPLAINED;
  }
}
