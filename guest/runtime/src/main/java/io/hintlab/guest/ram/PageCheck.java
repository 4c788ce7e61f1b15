package io.hintlab.guest.ram;

/** What {@link GuestRam#verifyPage} found in a page the guest owns. */
public enum PageCheck {
  /** The stamp (and, with the pattern option, the rest of the page) is what was written. */
  OK,
  /**
   * The stamp reads as all zeros: the data the guest wrote is gone, so the host discarded a page
   * the guest still needed. This is the lab's ground truth for an unsafe report or hint.
   */
  LOST_WRITE,
  /**
   * Anything else that is not the expected content: a torn or garbage stamp, another page's stamp,
   * an older generation's stamp (a stale copy), or a damaged fill pattern.
   */
  CORRUPT
}
