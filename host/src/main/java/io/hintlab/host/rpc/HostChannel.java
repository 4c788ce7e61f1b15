package io.hintlab.host.rpc;

import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.unix.DomainSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * A client channel to a host at a {@link HostAddress}, owning the event loop a Unix socket needs.
 * Callers still put a deadline on every call.
 */
public final class HostChannel implements AutoCloseable {
  private final ManagedChannel channel;
  private final EventLoopGroup group;

  private HostChannel(ManagedChannel channel, EventLoopGroup group) {
    this.channel = channel;
    this.group = group;
  }

  /** Opens a plaintext channel to {@code address}. */
  @SuppressWarnings("deprecation") // EpollEventLoopGroup: still the documented way in Netty 4.2
  public static HostChannel open(HostAddress address) {
    return switch (address.kind()) {
      case UNIX -> {
        EventLoopGroup g = new EpollEventLoopGroup(1,
            Thread.ofPlatform().name("hintlab-client-epoll").daemon().factory());
        ManagedChannel ch = NettyChannelBuilder.forAddress(new DomainSocketAddress(address.path()))
            .channelType(EpollDomainSocketChannel.class)
            .eventLoopGroup(g)
            .usePlaintext()
            .build();
        yield new HostChannel(ch, g);
      }
      case TCP -> new HostChannel(
          NettyChannelBuilder.forAddress(address.host(), address.port()).usePlaintext().build(),
          null);
      case IN_PROCESS -> new HostChannel(
          InProcessChannelBuilder.forName(address.path()).directExecutor().build(), null);
    };
  }

  /** The channel for stubs. */
  public ManagedChannel channel() {
    return channel;
  }

  /** Shuts the channel down (bounded wait) and its event loop. */
  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
  }
}
