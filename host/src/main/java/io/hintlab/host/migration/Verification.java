package io.hintlab.host.migration;

import java.util.List;
import java.util.Map;

/**
 * The ground-truth check at stop-and-copy: every page the paused guest said holds its data,
 * compared byte for byte between source and destination (the guest's stamps are in the page), and
 * the race detector judged against it.
 *
 * <p>The detector is what a real VMM can observe: a hint whose command id was issued before the
 * latest bitmap sync and that cleared a bit still set (it may have cleared a bit that sync set for
 * a write made after the guest hinted the page). Each such page is flagged.
 *
 * @param ownedPages pages the guest's Paused answer listed (within the guest's RAM)
 * @param corruptedPages owned pages whose destination copy differs from the source
 * @param byCause corrupted pages per {@link CorruptionCause} (every cause present, 0 if none)
 * @param detectorFlaggedPages pages the detector flagged during the migration (owned or not)
 * @param detectorHits corrupted pages the detector had flagged
 * @param detectorMisses corrupted pages the detector had not flagged
 * @param detectorFalseAlarms flagged pages that were not corrupted (not owned, or intact)
 * @param samples the first corrupted pages in pfn order, at most {@link #MAX_SAMPLES}
 */
public record Verification(
    long ownedPages,
    long corruptedPages,
    Map<CorruptionCause, Long> byCause,
    long detectorFlaggedPages,
    long detectorHits,
    long detectorMisses,
    long detectorFalseAlarms,
    List<CorruptedPage> samples) {

  /** Most corrupted pages listed in {@link #samples}. */
  public static final int MAX_SAMPLES = 64;

  /** Copies the collections. */
  public Verification {
    byCause = Map.copyOf(byCause);
    samples = List.copyOf(samples);
  }

  /** Corrupted pages attributed to {@code cause}. */
  public long corrupted(CorruptionCause cause) {
    return byCause.getOrDefault(cause, 0L);
  }
}
