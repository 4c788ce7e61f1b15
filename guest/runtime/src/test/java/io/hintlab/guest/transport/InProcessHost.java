package io.hintlab.guest.transport;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * A {@link FakeBalloonDevice} on an in-process server with a generated name, and a channel to it,
 * both on {@code directExecutor()}. The server can be stopped and started again under the same
 * name (a host that goes away and comes back); {@link #close()} shuts both down, bounded.
 */
final class InProcessHost implements AutoCloseable {
  final FakeBalloonDevice fake = new FakeBalloonDevice();
  final String name = InProcessServerBuilder.generateName();
  final ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  private Server server;

  InProcessHost() throws IOException {
    start();
  }

  /** Starts (again) serving the fake under this host's name. */
  synchronized void start() throws IOException {
    server = InProcessServerBuilder.forName(name).directExecutor().addService(fake).build()
        .start();
  }

  /** Stops serving: open calls fail with UNAVAILABLE, new ones cannot connect. */
  synchronized void stop() throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  /** A GuestChannel over this host's channel, for the Connector. */
  GuestChannel guestChannel() {
    return GuestChannel.wrap("in-process:" + name, channel);
  }

  @Override
  public synchronized void close() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
