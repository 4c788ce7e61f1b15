package io.hintlab.host.rpc;

import io.grpc.inprocess.InProcessServerBuilder;
import io.hintlab.host.device.HostMode;
import io.hintlab.host.memory.StateDirs;
import io.hintlab.proto.v1.AttachRequest;
import io.hintlab.proto.v1.AttachResponse;
import io.hintlab.proto.v1.BalloonDeviceGrpc;
import io.hintlab.proto.v1.HostControlGrpc;
import io.hintlab.proto.v1.PageRange;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** An in-process host plus stubs with deadlines, and guest-side helpers. */
final class HostFixture implements AutoCloseable {
  static final long ALL_FEATURES = 0b111111; // bits 0..5
  final Path base;
  final HostServer host;
  final HostChannel channel;

  HostFixture(HostMode mode, Duration lease, int maxGuests) throws IOException {
    base = StateDirs.defaultBase().resolve("test-" + ProcessHandle.current().pid());
    host = HostServer.start(HostConfig.defaults().withMode(mode).withStateBase(base)
            .withLease(lease).withMaxGuests(maxGuests),
        HostAddress.inProcess(InProcessServerBuilder.generateName()));
    channel = HostChannel.open(host.address());
  }

  HostFixture() throws IOException {
    this(HostMode.DISCARD, Duration.ofSeconds(30), 8);
  }

  BalloonDeviceGrpc.BalloonDeviceBlockingStub device() {
    return BalloonDeviceGrpc.newBlockingStub(channel.channel())
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  BalloonDeviceGrpc.BalloonDeviceStub deviceAsync() {
    return BalloonDeviceGrpc.newStub(channel.channel()).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  HostControlGrpc.HostControlBlockingStub control() {
    return HostControlGrpc.newBlockingStub(channel.channel())
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  static AttachRequest attachRequest(String name, long bytes, long features) {
    return AttachRequest.newBuilder().setGuestName(name).setMemoryBytes(bytes).setPageSize(4096)
        .setDriverFeatures(features).setMaxOrder(10).setPid(42).build();
  }

  AttachResponse attach(String name, long bytes) {
    return device().attach(attachRequest(name, bytes, ALL_FEATURES));
  }

  static PageRange range(long pfn, int order) {
    return PageRange.newBuilder().setPfn(pfn).setOrder(order).build();
  }

  /** Writes pages through the guest's view of the RAM file and sets their dirty bits. */
  static void write(AttachResponse a, long pfn, long pages) throws IOException {
    try (Arena arena = Arena.ofConfined();
        FileChannel ram = FileChannel.open(Path.of(a.getRamPath()), StandardOpenOption.READ,
            StandardOpenOption.WRITE);
        FileChannel log = FileChannel.open(Path.of(a.getDirtyLogPath()), StandardOpenOption.READ,
            StandardOpenOption.WRITE)) {
      var seg = ram.map(FileChannel.MapMode.READ_WRITE, pfn * 4096, pages * 4096, arena);
      var bits = log.map(FileChannel.MapMode.READ_WRITE, 0, log.size(), arena);
      var word = ValueLayout.JAVA_LONG.varHandle();
      for (long p = 0; p < pages; p++) {
        seg.set(ValueLayout.JAVA_LONG, p * 4096, 0x1234L + p);
        long page = pfn + p;
        long unused = (long) word.getAndBitwiseOr(bits, (page >>> 6) * 8, 1L << page);
      }
    }
  }

  /** st_blocks * 512 of the guest's RAM file, as the host measures it. */
  static long allocated(AttachResponse a) throws IOException {
    return io.hintlab.host.memory.NativeLibc.allocatedBytes(Path.of(a.getRamPath()));
  }

  @Override
  public void close() {
    channel.close();
    host.close();
    StateDirs.deleteTree(base);
  }
}
