package io.hintlab.guest.transport;

import io.hintlab.proto.v1.ConfigEvent;
import java.util.Optional;

/**
 * One event of the host's WatchConfig stream: a config-change interrupt (a new balloon target or
 * free page hint command id) or a host request, with the config space at that time.
 *
 * @param kind what happened
 * @param config the config space when the host sent the event
 * @param hostTimeNs the host's monotonic time of sending, in nanoseconds
 */
public record ConfigUpdate(Kind kind, ConfigSpace config, long hostTimeNs) {

  /** What the host pushed (device.proto {@code ConfigEvent.Kind}). */
  public enum Kind {
    /** The config space changed: balloon target or free page hint command id. */
    CONFIG_CHANGED,
    /** Stop the vCPUs and answer with Paused. */
    PAUSE,
    /** Resume the vCPUs. */
    RESUME,
    /** The host is shutting the session down; the guest should detach. */
    SHUTDOWN
  }

  /**
   * Reads the wire message.
   *
   * @param e the event as sent
   * @return the update, or empty for a kind this guest does not know (a newer host)
   */
  static Optional<ConfigUpdate> from(ConfigEvent e) {
    Kind k = switch (e.getKind()) {
      case CONFIG_CHANGED -> Kind.CONFIG_CHANGED;
      case PAUSE -> Kind.PAUSE;
      case RESUME -> Kind.RESUME;
      case SHUTDOWN -> Kind.SHUTDOWN;
      case KIND_UNSPECIFIED, UNRECOGNIZED -> null;
    };
    return k == null
        ? Optional.empty()
        : Optional.of(new ConfigUpdate(k, ConfigSpace.from(e.getConfig()), e.getHostTimeNs()));
  }
}
