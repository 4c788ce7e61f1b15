package io.hintlab.host.lab;

import java.util.Locale;

/** {@code migrate --hinting}: which runs a migrate makes, with and without free page hints. */
public enum MigrateHinting {
  /** One run, free page hinting driven (QEMU's free-page-hint=on). */
  ON,
  /** One run, no hinting (MigrateRequest.no_hints). */
  OFF,
  /** Two fresh pairs, same seed and timing: with hints, then without. */
  COMPARE;

  /** Whether a run with hints is made. */
  public boolean withHints() {
    return this != OFF;
  }

  /** Whether a run without hints is made. */
  public boolean withoutHints() {
    return this != ON;
  }

  /**
   * Parses {@code on}, {@code off} or {@code compare}.
   *
   * @throws IllegalArgumentException naming {@code --hinting} and the valid values
   */
  public static MigrateHinting parse(String text) {
    for (MigrateHinting h : values()) {
      if (h.toString().equals(text)) {
        return h;
      }
    }
    throw new IllegalArgumentException("--hinting must be on, off or compare, got '" + text + "'");
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
