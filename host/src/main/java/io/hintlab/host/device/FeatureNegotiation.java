package io.hintlab.host.device;

import static io.hintlab.host.device.VirtioBalloon.bit;

import io.hintlab.host.device.BalloonException.Reason;

/** What the device offers per host mode, and the check of the driver's accepted features. */
public final class FeatureNegotiation {
  private static final long KNOWN = (1L << (VirtioBalloon.MAX_KNOWN_FEATURE + 1)) - 1;

  private FeatureNegotiation() {}

  /**
   * Features offered in {@code mode}: QEMU's set (MUST_TELL_HOST for pfn accounting, STATS_VQ,
   * DEFLATE_ON_OOM, FREE_PAGE_HINT, PAGE_POISON, PAGE_REPORTING) plus HINT_WAIT_ON_ACK only in
   * hint-wait-ack.
   */
  public static long offered(HostMode mode) {
    long f =
        bit(VirtioBalloon.VIRTIO_BALLOON_F_MUST_TELL_HOST)
            | bit(VirtioBalloon.VIRTIO_BALLOON_F_STATS_VQ)
            | bit(VirtioBalloon.VIRTIO_BALLOON_F_DEFLATE_ON_OOM)
            | bit(VirtioBalloon.VIRTIO_BALLOON_F_FREE_PAGE_HINT)
            | bit(VirtioBalloon.VIRTIO_BALLOON_F_PAGE_POISON)
            | bit(VirtioBalloon.VIRTIO_BALLOON_F_PAGE_REPORTING);
    if (mode == HostMode.HINT_WAIT_ACK) {
      f |= bit(VirtioBalloon.VIRTIO_BALLOON_F_HINT_WAIT_ON_ACK);
    }
    return f;
  }

  /**
   * Checks the driver's features: no unknown bits, a subset of {@code offered}.
   *
   * @return {@code driver} as accepted
   * @throws BalloonException UNKNOWN_FEATURE or FEATURE_NOT_OFFERED naming the bits
   */
  public static long negotiate(long offered, long driver) throws BalloonException {
    long unknown = driver & ~KNOWN;
    if (unknown != 0) {
      throw new BalloonException(
          Reason.UNKNOWN_FEATURE, "unknown feature bits 0x" + Long.toHexString(unknown));
    }
    long notOffered = driver & ~offered;
    if (notOffered != 0) {
      throw new BalloonException(
          Reason.FEATURE_NOT_OFFERED,
          "feature bits 0x" + Long.toHexString(notOffered) + " were not offered (offered 0x"
              + Long.toHexString(offered) + ")");
    }
    return driver;
  }
}
