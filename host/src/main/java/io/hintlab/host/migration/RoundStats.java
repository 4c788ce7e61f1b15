package io.hintlab.host.migration;

/**
 * What one round of a migration put on the link.
 *
 * @param round round number: 0 is the bulk round; the stop-and-copy is numbered after the last
 *     pre-copy round
 * @param stopAndCopy whether this is the final round, sent with the guest paused
 * @param normalPages pages sent with their content
 * @param zeroPages pages sent as zero pages (all-zero content, or a hole), holes included
 * @param holePages of {@code zeroPages}, those found inside holes of the RAM file and never read
 * @param wireBytes bytes this round put on the link, page headers included
 * @param linkNanos simulated link time of {@code wireBytes} at the bandwidth (0 when unlimited)
 * @param pagesSkippedByHints migration-bitmap bits hints cleared during this round while they were
 *     still set: each saved one send (in round 0: pages hinted before the migration thread reached
 *     them)
 * @param dirtyPagesSynced pages the bitmap sync that ended this round found written (for the
 *     stop-and-copy: the final sync, with the guest paused)
 * @param remainingPages pages still to send right after that sync (0 after the stop-and-copy)
 */
public record RoundStats(
    int round,
    boolean stopAndCopy,
    long normalPages,
    long zeroPages,
    long holePages,
    long wireBytes,
    long linkNanos,
    long pagesSkippedByHints,
    long dirtyPagesSynced,
    long remainingPages) {}
