package io.hintlab.guest.transport;

import io.hintlab.proto.v1.BalloonConfig;

/**
 * The virtio-balloon config space as the host last sent it ({@code struct virtio_balloon_config},
 * device.proto {@code BalloonConfig}). The fields are unsigned 32-bit on the wire and kept as
 * Java ints: read them with {@link Integer#toUnsignedLong(int)} where the sign matters.
 *
 * @param numPages the balloon target in 4 KiB pages (written by the device)
 * @param actual pages in the balloon now, as last reported by the driver
 * @param freePageHintCmdId the current free page hint command id: {@link
 *     VirtioBalloon#VIRTIO_BALLOON_CMD_ID_STOP}, {@link VirtioBalloon#VIRTIO_BALLOON_CMD_ID_DONE},
 *     or a round's id (QEMU hands them out from 0x80000000)
 * @param poisonVal the value free pages hold (0 unless PAGE_POISON)
 */
public record ConfigSpace(int numPages, int actual, int freePageHintCmdId, int poisonVal) {

  /**
   * Reads the wire message.
   *
   * @param c the config as sent
   * @return the config space
   */
  static ConfigSpace from(BalloonConfig c) {
    return new ConfigSpace(
        c.getNumPages(), c.getActual(), c.getFreePageHintCmdId(), c.getPoisonVal());
  }

  /**
   * Whether the hint command id opens (or continues) a hinting round, i.e. is neither STOP nor
   * DONE. The spec says the driver SHOULD hint when the id is at least 2.
   *
   * @return true for a round's id
   */
  public boolean hintRound() {
    return Integer.compareUnsigned(freePageHintCmdId, 2) >= 0;
  }
}
