package io.hintlab.guest.transport;

import io.hintlab.proto.v1.DeviceInfo;

/**
 * What the device offers before negotiation (device.proto {@code DeviceInfo}).
 *
 * @param features offered feature bits (bit n = feature n, see {@link VirtioBalloon})
 * @param reportingCapacity entries one report may carry (the reporting virtqueue size)
 * @param backingPageSize the host's backing page size in bytes; ranges not aligned to it are
 *     ignored by the host
 * @param hostMode the host's mode (discard, migrate, discard-hints, ...)
 * @param maxMemoryBytes the largest RAM a guest may ask for
 */
public record DeviceOffer(
    long features,
    int reportingCapacity,
    long backingPageSize,
    String hostMode,
    long maxMemoryBytes) {

  /**
   * Reads the wire message.
   *
   * @param info the device's answer to GetDeviceInfo
   * @return the offer
   */
  static DeviceOffer from(DeviceInfo info) {
    return new DeviceOffer(info.getDeviceFeatures(), info.getReportingCapacity(),
        info.getBackingPageSize(), info.getHostMode(), info.getMaxMemoryBytes());
  }
}
