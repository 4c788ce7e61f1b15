package io.hintlab.host.lab;

import java.util.Locale;

/** How the pair's guest reaches its host (DESIGN §5: a Unix socket by default, loopback TCP). */
public enum Transport {
  /** A Unix domain socket inside the lab's private directory. */
  UNIX("unix"),
  /** 127.0.0.1 on a port the kernel picks when the host binds it. */
  TCP("tcp");

  private final String wireName;

  Transport(String wireName) {
    this.wireName = wireName;
  }

  /**
   * Parses {@code unix} or {@code tcp} (any case).
   *
   * @param text the option's value
   * @return the transport
   * @throws IllegalArgumentException naming the option and the valid values
   */
  public static Transport parse(String text) {
    String t = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
    for (Transport v : values()) {
      if (v.wireName.equals(t)) {
        return v;
      }
    }
    throw new IllegalArgumentException(
        "--transport must be unix or tcp, got '" + text + "'");
  }

  @Override
  public String toString() {
    return wireName;
  }
}
