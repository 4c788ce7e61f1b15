package io.hintlab.host.device;

import java.time.Duration;

/**
 * Per-device knobs.
 *
 * @param reportingCapacity ranges per Report call (QEMU: 32)
 * @param reportingOrder order the device asks the driver to report at (0 = driver default)
 * @param writePoison with poison_val != 0, write the poison instead of skipping the discard
 * @param pauseTimeout how long a pause waits for the guest's Paused answer
 * @param hintDelay fault injection, a busy iothread: how long each request on the free page hint
 *     queue (a START, a call of hinted blocks, a STOP) waits before the device takes it, so the
 *     guest's virtqueue backs up and its hints arrive later (QEMU pops them in an iothread bottom
 *     half; zero, the default, takes them at once)
 */
public record DeviceOptions(
    int reportingCapacity,
    int reportingOrder,
    boolean writePoison,
    Duration pauseTimeout,
    Duration hintDelay) {
  /** The longest {@code hintDelay}: a second per request already starves any hinting round. */
  public static final Duration MAX_HINT_DELAY = Duration.ofSeconds(1);

  /** QEMU-like defaults: capacity 32, driver's order, skip on poison, 5 s pause timeout. */
  public static DeviceOptions defaults() {
    return new DeviceOptions(
        VirtioBalloon.PAGE_REPORTING_CAPACITY, 0, false, Duration.ofSeconds(5), Duration.ZERO);
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
    if (hintDelay == null || hintDelay.isNegative() || hintDelay.compareTo(MAX_HINT_DELAY) > 0) {
      throw new IllegalArgumentException("hint delay must be in [0, " + MAX_HINT_DELAY.toMillis()
          + "] ms, was " + (hintDelay == null ? "null" : hintDelay.toMillis() + " ms"));
    }
  }

  /** These options with another hint delay. */
  public DeviceOptions withHintDelay(Duration delay) {
    return new DeviceOptions(reportingCapacity, reportingOrder, writePoison, pauseTimeout, delay);
  }
}
