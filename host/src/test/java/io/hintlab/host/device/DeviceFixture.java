package io.hintlab.host.device;

import io.hintlab.host.memory.Discarder;
import io.hintlab.host.memory.GuestMemory;
import io.hintlab.host.memory.StateDirs;
import io.hintlab.host.races.RaceLog;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.UnaryOperator;

/** A device over real tmpfs memory, with guest-side helpers (populate, write, dirty). */
final class DeviceFixture implements AutoCloseable {
  static final int PAGE = 4096;
  final Path dir;
  final RaceLog log = new RaceLog(64);
  final BalloonDevice dev;

  DeviceFixture(long features, HostMode mode, int poison, UnaryOperator<Discarder> wrap)
      throws IOException {
    this(features, mode, poison, wrap, DeviceOptions.defaults());
  }

  DeviceFixture(long features, HostMode mode, DeviceOptions options) throws IOException {
    this(features, mode, 0, UnaryOperator.identity(), options);
  }

  private DeviceFixture(long features, HostMode mode, int poison,
      UnaryOperator<Discarder> wrap, DeviceOptions options) throws IOException {
    dir = StateDirs.createHostDir(StateDirs.defaultBase());
    GuestMemory mem = GuestMemory.create(dir, "g", 16L << 20, PAGE, wrap);
    dev = new BalloonDevice("g1", "test", 1, mem, FeatureNegotiation.offered(mode), features,
        poison, 10, mode, log, options);
  }

  DeviceFixture(long features, HostMode mode) throws IOException {
    this(features, mode, 0, UnaryOperator.identity());
  }

  static long features(int... bits) {
    long f = 0;
    for (int b : bits) {
      f |= 1L << b;
    }
    return f;
  }

  /** Writes a stamp into each page and sets its dirty bit, as the guest does. */
  void write(long pfn, long pages) throws IOException {
    try (Arena a = Arena.ofConfined();
        FileChannel ch = FileChannel.open(dev.memory().ramPath(), StandardOpenOption.READ,
            StandardOpenOption.WRITE)) {
      var seg = ch.map(FileChannel.MapMode.READ_WRITE, pfn * PAGE, pages * PAGE, a);
      for (long p = 0; p < pages; p++) {
        seg.set(ValueLayout.JAVA_LONG, p * PAGE, 0xabcd0000L + pfn + p);
        dev.memory().dirtyLog().markDirty(pfn + p);
      }
    }
  }

  @Override
  public void close() {
    dev.close();
    StateDirs.deleteTree(dir);
  }
}
