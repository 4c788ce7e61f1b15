package io.hintlab.guest.mm;

/**
 * enum compact_result (include/linux/compaction.h), in the kernel's order: try_to_compact_pages()
 * keeps the maximum over zones.
 */
public enum CompactResult {
  /** The zone is not suitable: failing for lack of memory, not fragmentation. */
  NOT_SUITABLE_ZONE,
  /** Not attempted: below the order-0 watermarks compaction needs. */
  SKIPPED,
  /** Not attempted: deferred after recent failures. */
  DEFERRED,
  /** No suitable page yet (turned into CONTINUE by compact_finished()). */
  NO_SUITABLE_PAGE,
  /** Keep going. */
  CONTINUE,
  /** The scanners met after scanning the whole zone. */
  COMPLETE,
  /** The scanners met, but the scan started from cached positions. */
  PARTIAL_SKIPPED,
  /** Stopped early (no migration target, or lock contention in the kernel). */
  CONTENDED,
  /** A suitable page is (or should be) free now. */
  SUCCESS
}
