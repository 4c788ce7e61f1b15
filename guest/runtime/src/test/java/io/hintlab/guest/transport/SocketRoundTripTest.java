package io.hintlab.guest.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;

import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.hintlab.guest.transport.TransportException.Reason;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real transports: the fake device on a grpc-netty server bound to an epoll Unix domain
 * socket in a temporary directory, and on loopback TCP, reached through {@link GuestChannel}.
 */
class SocketRoundTripTest {
  private static final AttachSpec SPEC =
      new AttachSpec("uds", 64L << 20, 4096, 10, DriverWishes.linuxDefaults());

  @TempDir Path dir;
  private final FakeBalloonDevice fake = new FakeBalloonDevice();
  private Server server;
  private EventLoopGroup group;

  @AfterEach
  void tearDown() throws InterruptedException {
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
  }

  @Test
  void shouldAttachReportWatchAndDetachOverAUnixSocket() throws Exception {
    assertTrue(Epoll.isAvailable(), "native epoll: " + Epoll.unavailabilityCause());
    Path socket = dir.resolve("host.sock");
    group = new MultiThreadIoEventLoopGroup(1,
        Thread.ofPlatform().name("test-uds-server").daemon().factory(),
        EpollIoHandler.newFactory());
    server = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
        .channelType(EpollServerDomainSocketChannel.class)
        .bossEventLoopGroup(group)
        .workerEventLoopGroup(group)
        .withChildOption(ChannelOption.SO_KEEPALIVE, null) // none on a domain socket
        .directExecutor()
        .addService(fake)
        .build()
        .start();
    roundTrip(GuestAddress.parse("unix:" + socket));
  }

  @Test
  void shouldAttachReportWatchAndDetachOverLoopbackTcp() throws Exception {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .directExecutor()
        .addService(fake)
        .build()
        .start();
    int port = ((InetSocketAddress) server.getListenSockets().getFirst()).getPort();
    roundTrip(GuestAddress.parse("127.0.0.1:" + port));
  }

  @Test
  void aUnixSocketNobodyListensOnShouldBeHostGone() throws Exception {
    try (GuestChannel ch = GuestChannel.open(GuestAddress.unix(dir.resolve("none.sock")))) {
      DeviceClient c = new DeviceClient(ch.channel(), CallDeadlines.uniform(Duration.ofSeconds(2)));
      TransportException e = assertThrows(TransportException.class, c::deviceInfo);
      assertEquals(Reason.HOST_GONE, e.reason());
    }
  }

  private void roundTrip(GuestAddress address) throws Exception {
    long t0;
    try (GuestChannel ch = GuestChannel.open(address)) {
      assertEquals(address.toString(), ch.target());
      DeviceClient c = new DeviceClient(ch.channel(), CallDeadlines.uniform(Duration.ofSeconds(5)));
      DeviceSession s = c.attach(SPEC);
      ReportAck ack = c.reportBatch(new long[] {0, 512}, new int[] {9, 9}, 2);
      assertEquals(1024, ack.discardedPages());
      assertEquals(s.token(), fake.reports.getFirst().getSessionToken());
      ConfigWatch w = c.watchConfig(mock(ConfigListener.class));
      assertTrue(w.open());
      c.heartbeat();
      c.detach();
      assertEquals(1, fake.calls(FakeBalloonDevice.Rpc.DETACH));
      c.close();
      t0 = System.nanoTime();
    }
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertTrue(ms < 4 * GuestChannel.CLOSE_TIMEOUT.toMillis(), "channel close took " + ms + " ms");
  }
}
