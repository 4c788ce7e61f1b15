package io.hintlab.host.migration;

/** Why a page differs between source and destination at stop-and-copy. */
public enum CorruptionCause {
  /** A hint was accepted with an id that was no longer the active command id. */
  STALE_ID_ACCEPTED,
  /** A hint cleared the page's bitmap bit after the guest's last write to it. */
  HINT_AFTER_LAST_WRITE,
  /** The page was never sent and no hint explains it. */
  NEVER_SENT,
  /** The page was sent and no recorded event explains the mismatch. */
  UNEXPLAINED
}
