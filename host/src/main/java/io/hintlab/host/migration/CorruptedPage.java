package io.hintlab.host.migration;

/**
 * One page whose destination copy differs from the source at stop-and-copy.
 *
 * @param pfn the page
 * @param cause why, from its {@link Provenance}
 * @param lastSentRound round in which it was last sent, or -1 if never
 * @param lastHintId command id of the last hint that cleared its bit (0 if none did)
 * @param detected whether the race detector had flagged it
 */
public record CorruptedPage(
    long pfn, CorruptionCause cause, int lastSentRound, int lastHintId, boolean detected) {}
