package io.hintlab.host.device;

/**
 * Host-to-guest notifications of one device (the WatchConfig stream). Implementations must not
 * block and must not call back into the device.
 */
public interface DeviceEvents {
  /** The config space changed (config-change interrupt). */
  void configChanged(ConfigSpace config);

  /** Stop the vCPUs and answer with Paused. */
  void pause(ConfigSpace config);

  /** Resume the vCPUs. */
  void resume(ConfigSpace config);

  /** The host is shutting the session down. */
  void shutdown(ConfigSpace config);
}
