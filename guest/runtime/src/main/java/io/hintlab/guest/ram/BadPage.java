package io.hintlab.guest.ram;

/**
 * One page that failed {@link GuestRam#verifyPage}: what the caller expected and what the stamp
 * held, for reports.
 *
 * @param pfn the page frame number verified
 * @param expectedOwner the owner word the caller expected
 * @param expectedGeneration the write generation the caller expected
 * @param verdict {@link PageCheck#LOST_WRITE} or {@link PageCheck#CORRUPT}
 * @param foundPfn the pfn field of the stamp found (0 for a lost write)
 * @param foundOwner the owner field of the stamp found
 * @param foundGeneration the generation field of the stamp found
 * @param foundStampValid whether the stamp found is a well-formed stamp (magic and checksum
 *     agree with its own fields): true means a foreign or stale page, false a torn or garbage one
 */
public record BadPage(
    long pfn,
    int expectedOwner,
    long expectedGeneration,
    PageCheck verdict,
    long foundPfn,
    int foundOwner,
    long foundGeneration,
    boolean foundStampValid) {

  /** One line for logs and reports. */
  public String describe() {
    if (verdict == PageCheck.LOST_WRITE) {
      return "pfn " + pfn + ": lost write (zeros), expected owner 0x"
          + Integer.toHexString(expectedOwner) + " generation " + expectedGeneration;
    }
    return "pfn " + pfn + ": corrupt, expected owner 0x" + Integer.toHexString(expectedOwner)
        + " generation " + expectedGeneration + ", found "
        + (foundStampValid ? "a valid stamp" : "an invalid stamp") + " of pfn " + foundPfn
        + " owner 0x" + Integer.toHexString(foundOwner) + " generation " + foundGeneration;
  }
}
