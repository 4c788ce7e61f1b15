package io.hintlab.guest.transport;

/**
 * The host's acknowledgement of one report batch (the used buffer; device.proto
 * {@code ReportResponse}).
 *
 * @param discardedPages pages the batch discarded (holes punched)
 * @param ignoredRanges ranges skipped: not aligned to the backing page size, or poison_val is not
 *     0 (QEMU semantics)
 * @param alreadyDiscardedPages pages that were already discarded and not written since
 */
public record ReportAck(long discardedPages, int ignoredRanges, long alreadyDiscardedPages) {}
