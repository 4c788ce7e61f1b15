package io.hintlab.guest.transport;

import java.util.StringJoiner;

/**
 * virtio-balloon constants as the guest's driver uses them, named as the virtio spec names them
 * (OASIS virtio 1.2+, section 5.5 "Traditional Memory Balloon Device", 5.5.3 "Feature bits") and
 * as Linux include/uapi/linux/virtio_balloon.h, include/linux/page_reporting.h and
 * include/linux/poison.h define them. Bit numbers are the ones device.proto's {@code Feature}
 * enum carries on the wire.
 *
 * <p>The guest keeps its own copy instead of sharing the host's: the guest must not depend on the
 * host module, and the numbers are fixed by the spec.
 */
public final class VirtioBalloon {
  /** Host has to be told before pages from the balloon are used (spec 5.5.3, bit 0). */
  public static final int VIRTIO_BALLOON_F_MUST_TELL_HOST = 0;

  /** A virtqueue for reporting guest memory statistics is present (spec 5.5.3, bit 1). */
  public static final int VIRTIO_BALLOON_F_STATS_VQ = 1;

  /** Deflate the balloon on guest out of memory (spec 5.5.3, bit 2). */
  public static final int VIRTIO_BALLOON_F_DEFLATE_ON_OOM = 2;

  /** The device has support for free page hinting; free_page_hint_cmd_id is valid (bit 3). */
  public static final int VIRTIO_BALLOON_F_FREE_PAGE_HINT = 3;

  /** The driver is using page poisoning; poison_val is valid (spec 5.5.3, bit 4). */
  public static final int VIRTIO_BALLOON_F_PAGE_POISON = 4;

  /**
   * The device has support for free page reporting; the reporting virtqueue exists (spec 5.5.3,
   * bit 5). Linux spells it {@code VIRTIO_BALLOON_F_REPORTING}.
   */
  public static final int VIRTIO_BALLOON_F_PAGE_REPORTING = 5;

  /**
   * Proposed, not in the spec (Amazon RFC "virtio_balloon: Support wait on ACK for hinting",
   * 2026-01): the driver waits for the device's ack of each hinted block before reusing it. Bit 6
   * as device.proto numbers it; offered only by a host in mode hint-wait-ack.
   */
  public static final int VIRTIO_BALLOON_F_HINT_WAIT_ON_ACK = 6;

  /** Highest feature bit this driver knows; higher offered bits are never accepted. */
  public static final int MAX_KNOWN_FEATURE = VIRTIO_BALLOON_F_HINT_WAIT_ON_ACK;

  /** Free page hint command id STOP: stop hinting, keep hinted pages (spec "Free Page Hinting"). */
  public static final int VIRTIO_BALLOON_CMD_ID_STOP = 0;

  /**
   * Free page hint command id DONE: stop hinting and release hinted pages (spec "Free Page
   * Hinting").
   */
  public static final int VIRTIO_BALLOON_CMD_ID_DONE = 1;

  /**
   * First command id of a hinting round as QEMU hands them out
   * ({@code VIRTIO_BALLOON_FREE_PAGE_HINT_CMD_ID_MIN}); as a Java int it is negative.
   */
  public static final int VIRTIO_BALLOON_FREE_PAGE_HINT_CMD_ID_MIN = 0x80000000;

  /**
   * Entries per report call (include/linux/page_reporting.h). The Linux driver refuses a
   * reporting virtqueue smaller than this: virtballoon_probe() fails with -ENOSPC.
   */
  public static final int PAGE_REPORTING_CAPACITY = 32;

  /** The byte page poisoning writes into freed pages (include/linux/poison.h). */
  public static final int PAGE_POISON = 0xaa;

  /**
   * The poison_val a poisoning Linux guest writes to the config space: virtballoon_probe() does
   * {@code memset(&poison_val, PAGE_POISON, sizeof(poison_val))}, so 0xaaaaaaaa.
   */
  public static final int PAGE_POISON_VAL = 0xaaaaaaaa;

  /** Balloon pfns are of 4 KiB pages whatever the guest page size. */
  public static final int VIRTIO_BALLOON_PFN_SHIFT = 12;

  /** At most this many pfns per inflate or deflate buffer (drivers/virtio/virtio_balloon.c). */
  public static final int VIRTIO_BALLOON_ARRAY_PFNS_MAX = 256;

  private static final String[] NAMES = {
    "MUST_TELL_HOST", "STATS_VQ", "DEFLATE_ON_OOM", "FREE_PAGE_HINT", "PAGE_POISON",
    "PAGE_REPORTING", "HINT_WAIT_ON_ACK"
  };

  private VirtioBalloon() {}

  /**
   * The mask of one feature bit.
   *
   * @param bit a feature bit number in [0, 63]
   * @return {@code 1L << bit}
   */
  public static long bit(int bit) {
    if (bit < 0 || bit > 63) {
      throw new IllegalArgumentException("feature bit must be in [0, 63], was " + bit);
    }
    return 1L << bit;
  }

  /**
   * Whether a feature mask has one bit.
   *
   * @param features a feature mask (bit n = feature n)
   * @param bit a feature bit number in [0, 63]
   * @return true if {@code bit} is set in {@code features}
   */
  public static boolean has(long features, int bit) {
    return (features & bit(bit)) != 0;
  }

  /**
   * The name of one feature bit without the {@code VIRTIO_BALLOON_F_} prefix, e.g.
   * {@code PAGE_REPORTING}, or {@code bit N} for bits this driver does not know.
   *
   * @param bit a feature bit number in [0, 63]
   * @return a short name for logs and messages
   */
  public static String name(int bit) {
    bit(bit);
    return bit < NAMES.length ? NAMES[bit] : "bit " + bit;
  }

  /**
   * A feature mask as names for logs and messages, lowest bit first, e.g.
   * {@code STATS_VQ|PAGE_REPORTING}, or {@code none}.
   *
   * @param features a feature mask
   * @return the names joined by {@code |}
   */
  public static String names(long features) {
    if (features == 0) {
      return "none";
    }
    StringJoiner j = new StringJoiner("|");
    for (int b = 0; b < 64; b++) {
      if (has(features, b)) {
        j.add(name(b));
      }
    }
    return j.toString();
  }
}
