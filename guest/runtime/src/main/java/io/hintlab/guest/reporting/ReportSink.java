package io.hintlab.guest.reporting;

/**
 * The driver side of free page reporting: the model's {@code prdev->report()} callback, {@code
 * virtballoon_free_page_report()} in drivers/virtio/virtio_balloon.c, which adds the scatterlist to
 * the reporting virtqueue, kicks the device and waits until the device has used the buffers.
 *
 * <p>The call is synchronous: the pages of the batch are off the free lists (neither free nor
 * allocatable) until it returns, and the reporting thread has dropped the zone lock for its whole
 * duration. A transport implements it as a blocking RPC with a deadline; it must return only after
 * the host acknowledged the batch, and throw for anything else.
 *
 * <p><b>Note:</b> called only from the reporting thread, one batch at a time. The arrays belong to
 * the caller and are reused for the next batch: an implementation copies what it keeps.
 */
@FunctionalInterface
public interface ReportSink {
  /**
   * Reports {@code n} free blocks to the host and waits for its acknowledgement.
   *
   * @param pfns the first pfn of each block in entries {@code [0, n)}
   * @param orders the order of each block (the block spans {@code 2^order} pages)
   * @param n the number of blocks, at least 1 and at most the strategy's capacity
   * @throws ReportException if the host did not acknowledge the batch (refused, deadline passed,
   *     disconnected, interrupted); the batch then counts as not reported
   */
  void report(long[] pfns, int[] orders, int n) throws ReportException;
}
