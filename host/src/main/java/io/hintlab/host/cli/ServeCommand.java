package io.hintlab.host.cli;

import io.hintlab.host.device.DeviceOptions;
import io.hintlab.host.device.HostMode;
import io.hintlab.host.memory.StateDirs;
import io.hintlab.host.rpc.HostConfig;
import io.hintlab.host.rpc.HostServer;
import io.hintlab.host.rpc.MetricsHttpServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code hintlab host serve}: runs a host until interrupted. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Serve the BalloonDevice and HostControl gRPC services until Ctrl-C.")
final class ServeCommand implements Callable<Integer> {
  @Mixin HostAddressOptions where = new HostAddressOptions();

  @Option(names = "--mode", paramLabel = "MODE", defaultValue = "discard",
      description = "What reports and hints do: discard, migrate, discard-hints, "
          + "discard-hints-paused, hint-wait-ack (default: ${DEFAULT-VALUE}).")
  String mode;

  @Option(names = "--metrics-port", paramLabel = "N",
      description = "Serve Prometheus text on http://127.0.0.1:N/metrics (0 = any free port).")
  Integer metricsPort;

  @Option(names = "--state-dir", paramLabel = "DIR",
      description = "Private (0700) directory for guest RAM files "
          + "(default: /dev/shm/hintlab-$USER).")
  Path stateDir;

  @Option(names = "--lease-ms", paramLabel = "MS", defaultValue = "10000",
      description = "A guest with no call and no WatchConfig stream for this long is freed "
          + "(default: ${DEFAULT-VALUE}).")
  long leaseMs;

  @Option(names = "--max-guests", paramLabel = "N", defaultValue = "64",
      description = "Guests attached at once (default: ${DEFAULT-VALUE}).")
  int maxGuests;

  @Option(names = "--backing", paramLabel = "KIND", defaultValue = "file",
      description = "Guest RAM backing: file (sparse tmpfs file in the state dir) or memfd "
          + "(guests map /proc/<host pid>/fd/N; freed with the host) (default: ${DEFAULT-VALUE}).")
  String backing;

  @Option(names = "--write-poison",
      description = "With a guest poison value, write it into reported pages instead of "
          + "skipping the discard (QEMU skips).")
  boolean writePoison;

  @Option(names = "--hint-delay-ms", paramLabel = "MS", defaultValue = "0",
      description = "Fault injection, a busy iothread: each request on the free page hint queue "
          + "waits MS before the device takes it, so the guest's virtqueue backs up and hints "
          + "arrive late, widening the windows the hinting guards close (0 to 1000; default: "
          + "${DEFAULT-VALUE}).")
  long hintDelayMs;

  @Override
  public Integer call() throws Exception {
    HostMode m = HostMode.parse(mode);
    if (metricsPort != null && (metricsPort < 0 || metricsPort > 65535)) {
      throw new IllegalArgumentException("--metrics-port must be in [0, 65535], was "
          + metricsPort);
    }
    if (leaseMs <= 0) {
      throw new IllegalArgumentException("--lease-ms must be positive, was " + leaseMs);
    }
    if (!backing.equals("file") && !backing.equals("memfd")) {
      throw new IllegalArgumentException("--backing must be file or memfd, was '" + backing + "'");
    }
    if (hintDelayMs < 0 || hintDelayMs > DeviceOptions.MAX_HINT_DELAY.toMillis()) {
      throw new IllegalArgumentException("--hint-delay-ms must be in [0, "
          + DeviceOptions.MAX_HINT_DELAY.toMillis() + "], was " + hintDelayMs);
    }
    DeviceOptions d = DeviceOptions.defaults();
    HostConfig config = HostConfig.defaults().withMode(m).withLease(Duration.ofMillis(leaseMs))
        .withMaxGuests(maxGuests).withMemfd(backing.equals("memfd"))
        .withStateBase(stateDir != null ? stateDir.toAbsolutePath() : StateDirs.defaultBase())
        .withDeviceOptions(new DeviceOptions(d.reportingCapacity(), d.reportingOrder(),
            writePoison, d.pauseTimeout(), Duration.ofMillis(hintDelayMs)));
    HostServer host = HostServer.start(config, where.address());
    MetricsHttpServer http = metricsPort == null ? null
        : new MetricsHttpServer(host.metrics(), metricsPort);
    Thread hook = Thread.ofPlatform().name("hintlab-shutdown").unstarted(() -> {
      if (http != null) {
        http.close();
      }
      host.stop();
    });
    Runtime.getRuntime().addShutdownHook(hook);
    System.out.println("hintlab host: listening on " + host.address() + " (mode " + m + ")"
        + (http != null ? ", metrics on http://127.0.0.1:" + http.port() + "/metrics" : ""));
    System.out.flush();
    host.blockUntilShutdown();
    return 0;
  }
}
