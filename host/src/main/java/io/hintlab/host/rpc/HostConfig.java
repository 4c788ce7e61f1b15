package io.hintlab.host.rpc;

import io.hintlab.host.device.DeviceOptions;
import io.hintlab.host.device.HostMode;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Settings of one host.
 *
 * @param mode host mode for guests that attach (changeable later with SetMode)
 * @param stateBase private directory under which the host's RAM files go
 * @param maxGuests guests attached at once
 * @param maxMemoryBytes largest RAM one guest may ask for
 * @param lease how long a session lives without calls or an open WatchConfig stream
 * @param deviceOptions per-device knobs
 * @param executorThreads threads of the bounded gRPC executor
 * @param memfd back guest RAM with memfds instead of files in the state directory
 */
public record HostConfig(
    HostMode mode,
    Path stateBase,
    int maxGuests,
    long maxMemoryBytes,
    Duration lease,
    DeviceOptions deviceOptions,
    int executorThreads,
    boolean memfd) {

  /** Defaults: discard mode, /dev/shm base, 64 guests of up to 64 GiB, 10 s lease, 16 threads. */
  public static HostConfig defaults() {
    return new HostConfig(HostMode.DISCARD, io.hintlab.host.memory.StateDirs.defaultBase(), 64,
        64L << 30, Duration.ofSeconds(10), DeviceOptions.defaults(), 16, false);
  }

  /** Validates the values. */
  public HostConfig {
    if (maxGuests < 1) {
      throw new IllegalArgumentException("max guests must be positive, was " + maxGuests);
    }
    if (lease.isNegative() || lease.isZero()) {
      throw new IllegalArgumentException("lease must be positive, was " + lease);
    }
    if (executorThreads < 2) {
      throw new IllegalArgumentException(
          "executor threads must be >= 2 (a pause waits for another call), was "
              + executorThreads);
    }
  }

  /** A copy with another mode. */
  public HostConfig withMode(HostMode m) {
    return new HostConfig(m, stateBase, maxGuests, maxMemoryBytes, lease, deviceOptions,
        executorThreads, memfd);
  }

  /** A copy with memfd ({@code true}) or file backing. */
  public HostConfig withMemfd(boolean useMemfd) {
    return new HostConfig(mode, stateBase, maxGuests, maxMemoryBytes, lease, deviceOptions,
        executorThreads, useMemfd);
  }

  /** A copy with another state directory base. */
  public HostConfig withStateBase(Path p) {
    return new HostConfig(mode, p, maxGuests, maxMemoryBytes, lease, deviceOptions,
        executorThreads, memfd);
  }

  /** A copy with another lease. */
  public HostConfig withLease(Duration d) {
    return new HostConfig(mode, stateBase, maxGuests, maxMemoryBytes, d, deviceOptions,
        executorThreads, memfd);
  }

  /** A copy with another guest limit. */
  public HostConfig withMaxGuests(int n) {
    return new HostConfig(mode, stateBase, n, maxMemoryBytes, lease, deviceOptions,
        executorThreads, memfd);
  }

  /** A copy with other device options. */
  public HostConfig withDeviceOptions(DeviceOptions o) {
    return new HostConfig(mode, stateBase, maxGuests, maxMemoryBytes, lease, o,
        executorThreads, memfd);
  }
}
