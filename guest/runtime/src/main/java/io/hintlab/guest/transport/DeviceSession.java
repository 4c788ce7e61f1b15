package io.hintlab.guest.transport;

import java.nio.file.Path;
import java.time.Duration;

/**
 * An attached session: what Attach returned, plus what the guest asked for. Immutable; a new
 * attach (after the session was lost) gives a new record with a new token and new, empty RAM.
 *
 * <p>The RAM file is sparse, {@code memoryBytes} long, to be mapped shared. The dirty log holds
 * one bit per pfn: bit {@code pfn & 63} of the little-endian 64-bit word {@code pfn >> 6}; the
 * guest sets bits with an atomic OR, the host fetch-and-clears words (device.proto).
 *
 * @param token the session token every later call carries (a secret: {@link #toString()} hides
 *     it)
 * @param features the negotiated features and poison_val
 * @param ramPath the guest RAM file
 * @param dirtyLogPath the dirty-log file
 * @param config the config space at attach
 * @param reportingCapacity the most ranges one report may carry
 * @param reportingOrder the order the device asks the driver to report at (0: the driver's
 *     default, pageblock_order)
 * @param pageSize the guest page size in bytes
 * @param memoryBytes the guest RAM size in bytes
 * @param lease how long the host keeps the session without calls or an open WatchConfig stream
 */
public record DeviceSession(
    String token,
    NegotiatedFeatures features,
    Path ramPath,
    Path dirtyLogPath,
    ConfigSpace config,
    int reportingCapacity,
    int reportingOrder,
    int pageSize,
    long memoryBytes,
    Duration lease) {

  /**
   * The number of guest pages.
   *
   * @return memoryBytes / pageSize
   */
  public long pages() {
    return memoryBytes / pageSize;
  }

  /**
   * Whether one feature was negotiated.
   *
   * @param bit a feature bit (see {@link VirtioBalloon})
   * @return true if negotiated
   */
  public boolean has(int bit) {
    return features.has(bit);
  }

  @Override
  public String toString() {
    return "DeviceSession[token=<hidden>, " + features + ", ram=" + ramPath + ", dirtyLog="
        + dirtyLogPath + ", " + config + ", reportingCapacity=" + reportingCapacity
        + ", reportingOrder=" + reportingOrder + ", pageSize=" + pageSize + ", memoryBytes="
        + memoryBytes + ", lease=" + lease + "]";
  }
}
