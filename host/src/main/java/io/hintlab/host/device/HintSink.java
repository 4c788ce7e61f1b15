package io.hintlab.host.device;

/**
 * Where applied free page hints go. The device calls it only while the hinted command id is the
 * current one and the hinting status is S_START, with the {@link FreePageHinting} lock held — so
 * once {@link FreePageHinting#stop()} returns no hint of the stopped round reaches the sink
 * (QEMU's free_page_lock guarantee). Only a fault-injection {@link FreePageHinting.Relaxation}
 * lets late or stale hints through; {@link #beginBatch(int, FreePageHinting.Admission)} says so.
 *
 * <p>In host mode {@code migrate} the migration simulator plugs in a sink that clears bits of its
 * bitmap, as qemu_guest_free_page_hint() does; the discard modes use a sink that punches holes.
 */
public interface HintSink {
  /** A sink that does nothing (hints are still counted and shown as hinted). */
  HintSink NONE = (pfn, nrPages, cmdId) -> {};

  /** A Hint call's ranges start to arrive. */
  default void beginBatch(int cmdId) throws BalloonException {}

  /**
   * A Hint call's ranges start to arrive, with how the device admitted them: always
   * {@link FreePageHinting.Admission#CURRENT} unless a fault-injection relaxation is set. The
   * default forgets the admission and calls {@link #beginBatch(int)}.
   */
  default void beginBatch(int cmdId, FreePageHinting.Admission admission)
      throws BalloonException {
    beginBatch(cmdId);
  }

  /**
   * Applies one hinted range.
   *
   * @param pfn first guest pfn
   * @param nrPages number of pages
   * @param cmdId the command id it was hinted under (the current one unless a relaxation of
   *     {@link FreePageHinting} admitted it)
   */
  void applyHint(long pfn, long nrPages, int cmdId) throws BalloonException;

  /** The Hint call's ranges are all applied. */
  default void endBatch() throws BalloonException {}
}
