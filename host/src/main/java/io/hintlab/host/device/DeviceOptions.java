package io.hintlab.host.device;

import java.time.Duration;

/**
 * Per-device knobs.
 *
 * @param reportingCapacity ranges per Report call (QEMU: 32)
 * @param reportingOrder order the device asks the driver to report at (0 = driver default)
 * @param writePoison with poison_val != 0, write the poison instead of skipping the discard
 * @param pauseTimeout how long a pause waits for the guest's Paused answer
 */
public record DeviceOptions(
    int reportingCapacity, int reportingOrder, boolean writePoison, Duration pauseTimeout) {
  /** QEMU-like defaults: capacity 32, driver's order, skip on poison, 5 s pause timeout. */
  public static DeviceOptions defaults() {
    return new DeviceOptions(
        VirtioBalloon.PAGE_REPORTING_CAPACITY, 0, false, Duration.ofSeconds(5));
  }

  /** Validates the values. */
  public DeviceOptions {
    if (reportingCapacity < 1 || reportingCapacity > VirtioBalloon.FREE_PAGE_VQ_SIZE) {
      throw new IllegalArgumentException(
          "reporting capacity must be in [1, 1024], was " + reportingCapacity);
    }
    if (reportingOrder < 0 || reportingOrder > VirtioBalloon.MAX_SUPPORTED_ORDER) {
      throw new IllegalArgumentException(
          "reporting order must be in [0, 20], was " + reportingOrder);
    }
    if (pauseTimeout == null || pauseTimeout.isNegative() || pauseTimeout.isZero()) {
      throw new IllegalArgumentException("pause timeout must be positive");
    }
  }
}
