package io.hintlab.host.migration;

/**
 * A progress snapshot, sent after the setup sync, after every round's bitmap sync and after the
 * stop-and-copy; the outcome itself is the migration's result.
 *
 * @param phase where the migration is
 * @param round the round under way (or just ended)
 * @param bytesSent bytes put on the link so far
 * @param remainingPages pages still to send, as of the latest bitmap sync
 * @param pagesSkippedByHints bitmap bits hints cleared so far
 */
public record MigrationProgress(
    MigrationPhase phase, int round, long bytesSent, long remainingPages,
    long pagesSkippedByHints) {}
