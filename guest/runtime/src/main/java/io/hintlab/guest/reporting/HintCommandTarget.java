package io.hintlab.guest.reporting;

/**
 * A strategy driven by the device's free page hint command ids rather than by frees: the
 * driver's {@code virtballoon_changed()} sees a new {@code free_page_hint_cmd_id} in the config
 * space and queues {@code report_free_page_work}. The run wires a target to the driver's config
 * listener and to a {@link HintSink} (the device's free page queue) before the agent starts.
 *
 * <p>Implemented by {@link HintAllocHoldStrategy} (blocks allocated and held until DONE) and by
 * {@link FreeListWalkStrategy} when the run puts it on the hint queue (blocks left on the free
 * lists, nothing held).
 */
public interface HintCommandTarget {
  /**
   * Sets where hints go. Called once, before the agent starts the strategy.
   *
   * @param sink the free page queue
   */
  void setHintSink(HintSink sink);

  /**
   * A command id read from the config space: STOP (0), DONE (1) or a round's id. Called on the
   * driver's config thread; records the id and requests a pass, never calls into the allocator.
   *
   * @param cmdId the id
   */
  void onCommandId(int cmdId);
}
