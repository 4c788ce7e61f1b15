package io.hintlab.guest.driver;

/**
 * What a {@link BalloonDriver} did, as of one moment. Page counts are balloon pages of 4 KiB
 * ({@code VIRTIO_BALLOON_PFN_SHIFT}), the unit of {@code vb->num_pages} and of the config space,
 * so {@code balloonPages == inflatedPages - deflatedPages} at every quiet moment.
 *
 * @param balloonPages pages in the balloon now ({@code vb->num_pages})
 * @param inflatedPages pages taken from the guest into the balloon ({@code fill_balloon()})
 * @param deflatedPages pages given back to the guest ({@code leak_balloon()}), whoever asked:
 *     the balloon target, the OOM notifier or the removal
 * @param oomDeflatedPages of those, pages the OOM notifier gave back ({@code
 *     virtio_balloon_oom_notify()})
 * @param migrations balloon pages migrated and told to the host as "inflate new, deflate old"
 *     ({@code virtballoon_migratepage()})
 * @param statsSent stats buffers the host took ({@code stats_handle_request()})
 * @param failures device calls that failed (inflate, deflate, stats), work items that threw (a
 *     hint target's error), and a removal that stopped telling a host too slow to answer
 * @param outOfPuff allocations for the balloon that failed ("Out of puff!", each followed by a
 *     200 ms wait)
 */
public record DriverMetrics(
    long balloonPages,
    long inflatedPages,
    long deflatedPages,
    long oomDeflatedPages,
    long migrations,
    long statsSent,
    long failures,
    long outOfPuff) {

  /** A driver that never ran. */
  public static final DriverMetrics NONE = new DriverMetrics(0, 0, 0, 0, 0, 0, 0, 0);
}
