package io.hintlab.guest.reporting;

/**
 * The driver side of free page hinting: the free page virtqueue of drivers/virtio/virtio_balloon.c
 * ({@code send_cmd_id_start()}, the hinted blocks as input buffers, {@code send_cmd_id_stop()}).
 * Unlike {@link ReportSink}, nothing waits for the device to use the hinted blocks: the driver
 * keeps them allocated until the device says DONE.
 *
 * <p><b>Note:</b> called only from the reporting thread. The arrays belong to the caller.
 */
public interface HintSink {
  /**
   * The start outbuf: the command id the round answers.
   *
   * @param cmdId the id read from the config space (at least {@code
   *     VIRTIO_BALLOON_CMD_ID_DONE + 1})
   * @return the device's current command id after the call
   * @throws ReportException if the device did not take the buffer
   */
  int start(int cmdId) throws ReportException;

  /**
   * Hinted blocks under the round's command id.
   *
   * @param cmdId the id the round was started with
   * @param pfns the first pfn of each block, entries {@code [0, n)}
   * @param orders the order of each block, entries {@code [0, n)}
   * @param n the number of blocks, at least 1
   * @return the device's current command id after the call (a different id means the device
   *     moved on: STOP, DONE or a new round)
   * @throws ReportException if the device did not take the buffers
   */
  int hint(int cmdId, long[] pfns, int[] orders, int n) throws ReportException;

  /**
   * The STOP outbuf: the driver has no more blocks for this round.
   *
   * @throws ReportException if the device did not take the buffer
   */
  void stop() throws ReportException;
}
