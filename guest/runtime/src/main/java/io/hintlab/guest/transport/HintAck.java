package io.hintlab.guest.transport;

/**
 * The device's answer to one free page hint element (device.proto {@code HintResponse}).
 *
 * @param hostCmdId the device's current command id after the call
 * @param appliedRanges ranges the device used
 * @param ignoredRanges ranges ignored: stale command id, or the device is in STOP or DONE
 */
public record HintAck(int hostCmdId, int appliedRanges, int ignoredRanges) {}
