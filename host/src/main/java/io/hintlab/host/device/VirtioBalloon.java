package io.hintlab.host.device;

/**
 * virtio-balloon constants, named as in include/uapi/linux/virtio_balloon.h, the virtio spec and
 * QEMU hw/virtio/virtio-balloon.c.
 */
public final class VirtioBalloon {
  /** Host must be told before pages are taken out of the balloon (deflate before reuse). */
  public static final int VIRTIO_BALLOON_F_MUST_TELL_HOST = 0;
  /** The stats virtqueue exists. */
  public static final int VIRTIO_BALLOON_F_STATS_VQ = 1;
  /** The guest deflates on OOM. */
  public static final int VIRTIO_BALLOON_F_DEFLATE_ON_OOM = 2;
  /** The free page hint virtqueue exists; free_page_hint_cmd_id is valid. */
  public static final int VIRTIO_BALLOON_F_FREE_PAGE_HINT = 3;
  /** poison_val is valid: free pages hold it. */
  public static final int VIRTIO_BALLOON_F_PAGE_POISON = 4;
  /** The reporting virtqueue exists. */
  public static final int VIRTIO_BALLOON_F_PAGE_REPORTING = 5;
  /** Proposed (Amazon RFC 2026-01): the driver waits for the device's ack of hinted blocks. */
  public static final int VIRTIO_BALLOON_F_HINT_WAIT_ON_ACK = 6;
  /** Highest feature bit this device knows. */
  public static final int MAX_KNOWN_FEATURE = VIRTIO_BALLOON_F_HINT_WAIT_ON_ACK;

  /** Free page hint command id: stop hinting, keep hinted pages. */
  public static final int VIRTIO_BALLOON_CMD_ID_STOP = 0;
  /** Free page hint command id: stop hinting and release hinted pages. */
  public static final int VIRTIO_BALLOON_CMD_ID_DONE = 1;
  /** First id of a hinting round (QEMU VIRTIO_BALLOON_FREE_PAGE_HINT_CMD_ID_MIN). */
  public static final int VIRTIO_BALLOON_FREE_PAGE_HINT_CMD_ID_MIN = 0x80000000;

  /** Balloon pfns are of 4 KiB pages whatever the guest page size. */
  public static final int VIRTIO_BALLOON_PFN_SHIFT = 12;
  /** At most this many pfns per inflate/deflate buffer. */
  public static final int VIRTIO_BALLOON_ARRAY_PFNS_MAX = 256;
  /** Entries per report call; QEMU sizes reporting_vq to this (include/linux/page_reporting.h). */
  public static final int PAGE_REPORTING_CAPACITY = 32;
  /** Most hinted ranges per Hint call: QEMU's free_page_vq size (VIRTQUEUE_MAX_SIZE). */
  public static final int FREE_PAGE_VQ_SIZE = 1024;
  /** Highest order a guest may declare (x86-64 MAX_PAGE_ORDER is 10; room for experiments). */
  public static final int MAX_SUPPORTED_ORDER = 20;

  private VirtioBalloon() {}

  /** Bit mask of feature {@code bit}. */
  public static long bit(int bit) {
    return 1L << bit;
  }

  /** Whether {@code features} has {@code bit} set. */
  public static boolean has(long features, int bit) {
    return (features & (1L << bit)) != 0;
  }
}
