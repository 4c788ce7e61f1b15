package io.hintlab.host.rpc;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.hintlab.host.memory.StateDirs;
import io.hintlab.host.races.RaceLog;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running host: the BalloonDevice and HostControl services, health and reflection, the session
 * registry and its lease reaper, on a Unix domain socket, TCP, or in-process.
 *
 * <p>Use: {@code HostServer h = HostServer.start(HostConfig.defaults(), HostAddress.inProcess(n));}
 * then {@code HostChannel.open(h.address())} for clients, and {@code h.close()} (bounded).
 */
public final class HostServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HostServer.class);
  private static final int EXECUTOR_QUEUE = 1024;

  private final HostAddress address;
  private final Server server;
  private final SessionRegistry registry;
  private final HostMetrics metrics;
  private final ThreadPoolExecutor executor;
  private final ScheduledExecutorService reaper;
  private final EventLoopGroup boss;
  private final EventLoopGroup worker;
  private final HealthStatusManager health;

  private HostServer(HostAddress address, Server server, SessionRegistry registry,
      HostMetrics metrics, ThreadPoolExecutor executor, ScheduledExecutorService reaper,
      EventLoopGroup boss, EventLoopGroup worker, HealthStatusManager health) {
    this.health = health;
    this.address = address;
    this.server = server;
    this.registry = registry;
    this.metrics = metrics;
    this.executor = executor;
    this.reaper = reaper;
    this.boss = boss;
    this.worker = worker;
  }

  /**
   * Starts a host listening at {@code address}.
   *
   * @throws IOException if the socket cannot be bound (e.g. a host already listens there)
   */
  @SuppressWarnings("deprecation") // EpollEventLoopGroup: still the documented way in Netty 4.2
  public static HostServer start(HostConfig config, HostAddress address) throws IOException {
    SessionRegistry registry = new SessionRegistry(config, new RaceLog());
    HostMetrics metrics = new HostMetrics(registry);
    AtomicInteger n = new AtomicInteger();
    ThreadPoolExecutor executor = new ThreadPoolExecutor(config.executorThreads(),
        config.executorThreads(), 30, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(EXECUTOR_QUEUE),
        r -> Thread.ofPlatform().name("hintlab-grpc-" + n.incrementAndGet()).daemon()
            .unstarted(r));
    EventLoopGroup boss = null;
    EventLoopGroup worker = null;
    ServerBuilder<?> b;
    switch (address.kind()) {
      case UNIX -> {
        Path socket = Path.of(address.path());
        prepareSocketPath(socket);
        boss = new EpollEventLoopGroup(1, Thread.ofPlatform().name("hintlab-boss").factory());
        worker = new EpollEventLoopGroup(2,
            Thread.ofPlatform().name("hintlab-io-", 1).factory());
        b = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .channelType(EpollServerDomainSocketChannel.class)
            .bossEventLoopGroup(boss)
            .workerEventLoopGroup(worker);
      }
      case TCP -> b = NettyServerBuilder.forAddress(
          new InetSocketAddress(address.host(), address.port()));
      case IN_PROCESS -> b = InProcessServerBuilder.forName(address.path());
      default -> throw new IllegalStateException("unknown address kind " + address.kind());
    }
    HealthStatusManager health = new HealthStatusManager();
    Server server = b.executor(executor)
        .callExecutor(HostServer::inlineExecutor)
        .addService(new BalloonDeviceService(registry))
        .addService(new HostControlService(registry))
        .addService(health.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance())
        .build();
    try {
      server.start();
    } catch (IOException e) {
      executor.shutdownNow();
      if (boss != null) {
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        worker.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      }
      throw new IOException("cannot listen on " + address + ": " + e.getMessage(), e);
    }
    if (address.kind() == HostAddress.Kind.UNIX) {
      Files.setPosixFilePermissions(Path.of(address.path()),
          PosixFilePermissions.fromString("rw-------"));
    }
    HostAddress bound = address;
    if (address.kind() == HostAddress.Kind.TCP && address.port() == 0) {
      bound = HostAddress.tcp(address.host(),
          ((InetSocketAddress) server.getListenSockets().get(0)).getPort());
    }
    ScheduledExecutorService reaper = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().name("hintlab-lease-reaper").daemon().factory());
    long period = Math.max(10, config.lease().toMillis() / 4);
    reaper.scheduleWithFixedDelay(() -> {
      try {
        registry.reapExpired();
      } catch (RuntimeException e) {
        LOG.warn("host: lease reaper: {}", e.toString());
      }
    }, period, period, TimeUnit.MILLISECONDS);
    HostServer h = new HostServer(bound, server, registry, metrics, executor, reaper, boss,
        worker, health);
    health.setStatus("", io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
    LOG.info("host: listening on {} (mode {})", bound, config.mode());
    return h;
  }

  /**
   * Report calls run inline on the transport thread that read them, like a VMM handling its
   * reporting virtqueue on the device thread: they only punch holes (bounded work, no waiting on
   * other calls), and skipping two thread hand-offs matters on small VMs where waking an idle vCPU
   * costs a VM exit. Every other call — notably Hint, which may pause the guest and wait for its
   * Paused call — goes to the bounded executor.
   */
  private static java.util.concurrent.Executor inlineExecutor(
      io.grpc.ServerCall<?, ?> call, io.grpc.Metadata headers) {
    return call.getMethodDescriptor().getFullMethodName().equals(
        io.hintlab.proto.v1.BalloonDeviceGrpc.getReportMethod().getFullMethodName())
        ? Runnable::run : null;
  }

  /**
   * Starts a host on a fresh in-process name (tests, the lab); connect with
   * {@code HostChannel.open(host.address())}.
   */
  public static HostServer startInProcess(HostConfig config) throws IOException {
    return start(config, HostAddress.inProcess(InProcessServerBuilder.generateName()));
  }

  // The directory must be private (0700); a leftover socket nobody answers on is removed.
  private static void prepareSocketPath(Path socket) throws IOException {
    Path dir = socket.toAbsolutePath().getParent();
    StateDirs.ensurePrivateDir(dir);
    if (Files.exists(socket)) {
      try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
        ch.connect(UnixDomainSocketAddress.of(socket));
        throw new IOException("a host is already listening on " + socket);
      } catch (IOException e) {
        if (e.getMessage() != null && e.getMessage().startsWith("a host is already")) {
          throw e;
        }
        Files.delete(socket); // stale: nobody listens
      }
    }
  }

  /** Where the server listens (with the real port for TCP port 0). */
  public HostAddress address() {
    return address;
  }

  /** The sessions (devices) of this host. */
  public SessionRegistry registry() {
    return registry;
  }

  /** The Prometheus view of the counters. */
  public HostMetrics metrics() {
    return metrics;
  }

  /** Blocks until the server has terminated. */
  public void blockUntilShutdown() throws InterruptedException {
    server.awaitTermination();
  }

  /**
   * Stops: sessions are told SHUTDOWN and freed, the server drains for up to 2 s, then every
   * thread is stopped with bounded joins. Idempotent.
   */
  public void stop() {
    if (server.isTerminated()) {
      return;
    }
    health.enterTerminalState();
    registry.close();
    server.shutdown();
    try {
      if (!server.awaitTermination(2, TimeUnit.SECONDS)) {
        server.shutdownNow();
        server.awaitTermination(2, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    }
    reaper.shutdownNow();
    executor.shutdownNow();
    try {
      reaper.awaitTermination(2, TimeUnit.SECONDS);
      executor.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (boss != null) {
      boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
      worker.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }
    if (address.kind() == HostAddress.Kind.UNIX) {
      try {
        Files.deleteIfExists(Path.of(address.path()));
      } catch (IOException e) {
        LOG.debug("host: cannot remove socket {}: {}", address.path(), e.toString());
      }
    }
    LOG.info("host: stopped");
  }

  @Override
  public void close() {
    stop();
  }
}
