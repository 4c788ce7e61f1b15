package io.hintlab.host.migration;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A migration link rate and the pacing math derived from it (mirrors QEMU's max-bandwidth
 * migration parameter, which throttles the migration thread to a byte rate).
 *
 * <p>Parsed from text such as {@code 10Gbit}, {@code 1GiB/s}, {@code 100MiB/s}, {@code 500MB/s}
 * or {@code unlimited}. Bit units are decimal (1 Gbit = 10^9 bits), byte units follow their
 * prefix (KiB/MiB/GiB binary, KB/MB/GB decimal).
 *
 * @param bytesPerSecond bytes per second, or 0 for an unlimited link
 */
public record Bandwidth(long bytesPerSecond) {

  /** An unlimited link: sending takes no simulated time. */
  public static final Bandwidth UNLIMITED = new Bandwidth(0);

  private static final Pattern RATE =
      Pattern.compile("([0-9]+(?:\\.[0-9]+)?)\\s*([kmgt]?i?b(?:it)?)(?:/s|ps)?");

  /**
   * Validates the rate.
   *
   * @throws IllegalArgumentException if {@code bytesPerSecond} is negative
   */
  public Bandwidth {
    if (bytesPerSecond < 0) {
      throw new IllegalArgumentException("bandwidth must be >= 0 bytes/s, got " + bytesPerSecond);
    }
  }

  /** Returns true if this link has no rate limit. */
  public boolean unlimited() {
    return bytesPerSecond == 0;
  }

  /**
   * Parses a rate with units.
   *
   * @param text e.g. {@code 10Gbit}, {@code 1GiB/s}, {@code 100MiB/s}, {@code unlimited}
   * @return the bandwidth
   * @throws IllegalArgumentException naming the bad text if it has no number, an unknown unit, or
   *     a rate of zero
   */
  public static Bandwidth parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("bandwidth is empty; use e.g. 10Gbit, 1GiB/s or unlimited");
    }
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.equals("unlimited")) {
      return UNLIMITED;
    }
    Matcher m = RATE.matcher(t);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "bad bandwidth '" + text + "': use a number with a unit (bit, Kbit, Mbit, Gbit, B/s,"
              + " KiB/s, MiB/s, GiB/s, KB/s, MB/s, GB/s) or 'unlimited'");
    }
    double value = Double.parseDouble(m.group(1));
    String unit = m.group(2);
    boolean bits = unit.endsWith("bit");
    boolean binary = unit.matches("[kmgt]i.*");
    if (bits && binary) {
      throw new IllegalArgumentException("bad bandwidth '" + text + "': bit units are decimal");
    }
    if (!bits && !unit.endsWith("b")) {
      throw new IllegalArgumentException("bad bandwidth '" + text + "': unknown unit");
    }
    double base = binary ? 1024.0 : 1000.0;
    int exponent =
        switch (unit.charAt(0)) {
          case 'k' -> 1;
          case 'm' -> 2;
          case 'g' -> 3;
          case 't' -> 4;
          default -> 0;
        };
    double bytes = value * Math.pow(base, exponent) / (bits ? 8.0 : 1.0);
    if (bytes < 1.0) {
      throw new IllegalArgumentException(
          "bad bandwidth '" + text + "': must be at least 1 byte/s (or 'unlimited')");
    }
    if (bytes > Long.MAX_VALUE / 2) {
      throw new IllegalArgumentException("bad bandwidth '" + text + "': too large");
    }
    return new Bandwidth(Math.round(bytes));
  }

  /**
   * Nanoseconds the link needs to carry {@code bytes} (0 on an unlimited link).
   *
   * @throws IllegalArgumentException if {@code bytes} is negative
   */
  public long nanosFor(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes must be >= 0, got " + bytes);
    }
    if (unlimited()) {
      return 0;
    }
    // 128-bit safe: bytes * 1e9 may overflow a long for multi-GiB transfers.
    return Math.multiplyHigh(bytes, 1_000_000_000L) == 0
            && bytes * 1_000_000_000L >= 0
        ? bytes * 1_000_000_000L / bytesPerSecond
        : (long) ((double) bytes * 1e9 / bytesPerSecond);
  }

  /**
   * Bytes the link carries in {@code millis} milliseconds (Long.MAX_VALUE when unlimited); this
   * is the remaining-dirty-set budget QEMU compares against its downtime limit.
   *
   * @throws IllegalArgumentException if {@code millis} is negative
   */
  public long bytesIn(long millis) {
    if (millis < 0) {
      throw new IllegalArgumentException("millis must be >= 0, got " + millis);
    }
    if (unlimited()) {
      return Long.MAX_VALUE;
    }
    return Math.multiplyHigh(bytesPerSecond, millis) == 0 && bytesPerSecond * millis >= 0
        ? bytesPerSecond * millis / 1000
        : Long.MAX_VALUE;
  }

  @Override
  public String toString() {
    return unlimited() ? "unlimited" : bytesPerSecond + " B/s";
  }
}
