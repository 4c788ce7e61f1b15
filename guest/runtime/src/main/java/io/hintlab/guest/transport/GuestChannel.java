package io.hintlab.guest.transport;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A plaintext gRPC channel to the host, with the one-thread Netty event loop it runs on: epoll
 * and a domain socket for {@code unix:}, NIO and a socket for TCP (grpc-netty on netty-all).
 * Callers still put a deadline on every call ({@link DeviceClient} does).
 *
 * <p>{@link #close()} is bounded: a graceful shutdown, then a forced one, each waited for at most
 * {@link #CLOSE_TIMEOUT}, then the event loop.
 */
public final class GuestChannel implements AutoCloseable {
  /** The longest each shutdown step of {@link #close()} waits. */
  public static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(1);

  private final String target;
  private final ManagedChannel channel;
  private final EventLoopGroup group; // null when the channel was built elsewhere

  private GuestChannel(String target, ManagedChannel channel, EventLoopGroup group) {
    this.target = target;
    this.channel = channel;
    this.group = group;
  }

  /**
   * Opens a channel to {@code address}. Nothing connects yet: the first call does.
   *
   * @param address where the host listens
   * @return the channel
   * @throws IllegalStateException for {@code unix:} where Netty's native epoll is unavailable
   */
  public static GuestChannel open(GuestAddress address) {
    return switch (address.kind()) {
      case UNIX -> {
        if (!Epoll.isAvailable()) {
          throw new IllegalStateException("unix: sockets need Netty's native epoll transport"
              + " (Linux x86_64, aarch64 or riscv64): " + Epoll.unavailabilityCause());
        }
        EventLoopGroup g = new MultiThreadIoEventLoopGroup(1,
            Thread.ofPlatform().name("hintlab-guest-epoll").daemon().factory(),
            EpollIoHandler.newFactory());
        ManagedChannel ch = NettyChannelBuilder.forAddress(new DomainSocketAddress(address.path()))
            .channelType(EpollDomainSocketChannel.class)
            .eventLoopGroup(g)
            // grpc-netty sets SO_KEEPALIVE on every client socket; a domain socket has none and
            // Netty warns on each connect. A null value removes the option from the bootstrap.
            .withOption(ChannelOption.SO_KEEPALIVE, null)
            .overrideAuthority("localhost")
            .usePlaintext()
            .build();
        yield new GuestChannel(address.toString(), ch, g);
      }
      case TCP -> {
        EventLoopGroup g = new MultiThreadIoEventLoopGroup(1,
            Thread.ofPlatform().name("hintlab-guest-nio").daemon().factory(),
            NioIoHandler.newFactory());
        ManagedChannel ch = NettyChannelBuilder.forAddress(
                new InetSocketAddress(address.bareHost(), address.port()))
            .channelType(NioSocketChannel.class)
            .eventLoopGroup(g)
            .usePlaintext()
            .build();
        yield new GuestChannel(address.toString(), ch, g);
      }
    };
  }

  /**
   * Wraps a channel built elsewhere (an in-process channel in tests or the lab); {@link #close()}
   * shuts it down the same bounded way.
   *
   * @param target what the channel reaches, for messages
   * @param channel the channel; this object takes ownership
   * @return the wrapper
   */
  public static GuestChannel wrap(String target, ManagedChannel channel) {
    return new GuestChannel(target, channel, null);
  }

  /**
   * The channel for {@link DeviceClient} and stubs.
   *
   * @return the channel
   */
  public ManagedChannel channel() {
    return channel;
  }

  /**
   * What the channel reaches, e.g. {@code unix:/run/user/1000/hintlab/host.sock}.
   *
   * @return the target
   */
  public String target() {
    return target;
  }

  /**
   * Shuts the channel down (graceful, then forced, each bounded by {@link #CLOSE_TIMEOUT}) and
   * its event loop. Idempotent.
   */
  @Override
  public void close() {
    long ms = CLOSE_TIMEOUT.toMillis();
    try {
      channel.shutdown();
      if (!channel.awaitTermination(ms, TimeUnit.MILLISECONDS)) {
        channel.shutdownNow();
        channel.awaitTermination(ms, TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
    if (group != null) {
      group.shutdownGracefully(0, ms, TimeUnit.MILLISECONDS)
          .awaitUninterruptibly(2 * ms, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public String toString() {
    return target;
  }
}
