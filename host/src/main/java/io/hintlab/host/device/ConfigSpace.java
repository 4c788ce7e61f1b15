package io.hintlab.host.device;

/**
 * A snapshot of struct virtio_balloon_config.
 *
 * @param numPages balloon target in 4 KiB pages
 * @param actual pages in the balloon now
 * @param freePageHintCmdId as the driver reads it (QEMU get_config)
 * @param poisonVal the guest's poison value
 */
public record ConfigSpace(int numPages, int actual, int freePageHintCmdId, int poisonVal) {}
