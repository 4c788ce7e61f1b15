package io.hintlab.host.device;

import java.util.Arrays;
import java.util.stream.Collectors;

/** What the device does with reports and hints (DESIGN §6). */
public enum HostMode {
  /** Reported ranges are discarded; hints are only recorded (QEMU without a migration running). */
  DISCARD("discard"),
  /** Hints clear bits of the migration bitmap only ({@link HintSink}), QEMU ordering. */
  MIGRATE("migrate"),
  /** Hinted ranges are discarded at once: the unsafe Firecracker behaviour. */
  DISCARD_HINTS("discard-hints"),
  /** Hinted ranges are discarded with the guest paused, skipping pages written since the hint. */
  DISCARD_HINTS_PAUSED("discard-hints-paused"),
  /** Hinted ranges are discarded before the ack; offers VIRTIO_BALLOON_F_HINT_WAIT_ON_ACK. */
  HINT_WAIT_ACK("hint-wait-ack");

  private final String wireName;

  HostMode(String wireName) {
    this.wireName = wireName;
  }

  /** The name on the command line and on the wire. */
  public String wireName() {
    return wireName;
  }

  /** Whether hinted ranges are discarded in this mode. */
  public boolean discardsHints() {
    return this == DISCARD_HINTS || this == DISCARD_HINTS_PAUSED || this == HINT_WAIT_ACK;
  }

  /**
   * Parses a wire name.
   *
   * @throws IllegalArgumentException naming the valid modes
   */
  public static HostMode parse(String name) {
    for (HostMode m : values()) {
      if (m.wireName.equals(name)) {
        return m;
      }
    }
    throw new IllegalArgumentException(
        "unknown host mode '" + name + "'; valid: " + names());
  }

  /** The valid names, comma separated. */
  public static String names() {
    return Arrays.stream(values()).map(HostMode::wireName).collect(Collectors.joining(", "));
  }

  @Override
  public String toString() {
    return wireName;
  }
}
