package io.hintlab.host.migration;

import io.hintlab.host.device.BalloonDevice;
import io.hintlab.host.device.DeviceOptions;
import io.hintlab.host.device.FeatureNegotiation;
import io.hintlab.host.device.HostMode;
import io.hintlab.host.device.VirtioBalloon;
import io.hintlab.host.memory.GuestMemory;
import io.hintlab.host.memory.StateDirs;
import io.hintlab.host.races.RaceLog;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/** A device in host mode migrate over real tmpfs memory, a destination directory, and a guest. */
final class MigrationFixture implements AutoCloseable {
  static final long FEATURES = VirtioBalloon.bit(VirtioBalloon.VIRTIO_BALLOON_F_FREE_PAGE_HINT)
      | VirtioBalloon.bit(VirtioBalloon.VIRTIO_BALLOON_F_STATS_VQ);
  final Path dir;
  final Path destinationDir;
  final RaceLog log = new RaceLog(1 << 16);
  final BalloonDevice device;
  final StandInGuest guest;

  MigrationFixture(long memoryBytes, StandInGuest.Behaviour behaviour, Duration pauseTimeout)
      throws IOException {
    this(memoryBytes, behaviour, pauseTimeout, FEATURES);
  }

  MigrationFixture(long memoryBytes, StandInGuest.Behaviour behaviour, Duration pauseTimeout,
      long features) throws IOException {
    dir = StateDirs.createHostDir(StateDirs.defaultBase());
    destinationDir = dir.resolve("dest");
    GuestMemory mem = GuestMemory.create(dir, "g", memoryBytes, 4096);
    DeviceOptions opts = new DeviceOptions(32, 0, false, pauseTimeout, Duration.ZERO);
    device = new BalloonDevice("g1", "stand-in", 1, mem,
        FeatureNegotiation.offered(HostMode.MIGRATE), features, 0, 10, HostMode.MIGRATE, log,
        opts);
    guest = behaviour == null ? null : new StandInGuest(device, behaviour);
  }

  MigrationOptions options() {
    return MigrationOptions.defaults(destinationDir);
  }

  /** Runs a migration to its report, bounded. */
  MigrationReport migrate(MigrationOptions options) throws Exception {
    try (PrecopyMigration m = PrecopyMigration.start(device, options, p -> {})) {
      return m.await(Duration.ofSeconds(60));
    }
  }

  @Override
  public void close() throws Exception {
    try {
      if (guest != null) {
        guest.close();
      }
    } finally {
      device.close();
      StateDirs.deleteTree(destinationDir);
      StateDirs.deleteTree(dir);
    }
  }
}
