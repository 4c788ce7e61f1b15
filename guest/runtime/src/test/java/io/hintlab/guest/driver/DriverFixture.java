package io.hintlab.guest.driver;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.transport.AttachSpec;
import io.hintlab.guest.transport.CallDeadlines;
import io.hintlab.guest.transport.DeviceClient;
import io.hintlab.guest.transport.DriverWishes;
import io.hintlab.guest.transport.TransportException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One guest for a driver test: an allocator of {@code memory} with two cpus, a {@link FakeDevice}
 * on an in-process server (direct executor), a client attached with the given wishes, and the
 * driver once {@link #driver} made it. {@link #await} waits on a condition re-checked after every
 * device call, config event and driver work item, never by sleeping.
 */
final class DriverFixture implements AutoCloseable {
  static final Duration WAIT = Duration.ofSeconds(20);

  private final Object changes = new Object();
  final PageAllocator pa;
  final FakeDevice fake = new FakeDevice(this::changed);
  private final Server server;
  private final ManagedChannel channel;
  final DeviceClient client;
  BalloonDriver driver;

  DriverFixture(long memory, long features, DriverWishes wishes, CallDeadlines deadlines)
      throws IOException, TransportException {
    this.pa = new PageAllocator(MmConfig.builder().memory(memory).nrCpus(2).build());
    fake.features = features;
    String name = InProcessServerBuilder.generateName();
    this.server = InProcessServerBuilder.forName(name).directExecutor().addService(fake).build()
        .start();
    this.channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    this.client = new DeviceClient(channel, deadlines);
    client.attach(new AttachSpec("driver-test", memory, 4096, 10, wishes));
  }

  /** 64 MiB, every feature offered, the Linux driver's wishes, 2 s deadlines. */
  static DriverFixture standard() throws IOException, TransportException {
    return new DriverFixture(64L << 20, FakeDevice.ALL_FEATURES, DriverWishes.linuxDefaults(),
        CallDeadlines.uniform(Duration.ofSeconds(2)));
  }

  /** Makes the driver (not started); {@link #close} stops it. */
  BalloonDriver create(DriverOptions options) {
    driver = new BalloonDriver(pa, client, options);
    driver.onWorkDone(this::changed);
    return driver;
  }

  /** Makes and starts the driver. */
  BalloonDriver start(DriverOptions options) throws TransportException {
    create(options).start();
    return driver;
  }

  private void changed() {
    synchronized (changes) {
      changes.notifyAll();
    }
  }

  /** Waits up to {@link #WAIT} for {@code cond}; false on timeout. */
  boolean await(BooleanSupplier cond) throws InterruptedException {
    long end = System.nanoTime() + WAIT.toNanos();
    synchronized (changes) {
      while (!cond.getAsBoolean()) {
        long left = end - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(changes, left);
      }
    }
    return true;
  }

  /**
   * Waits until the balloon holds {@code pages}, the host holds the same number, and the driver's
   * fill or leak has returned (it wrote actual after letting go of the balloon lock).
   */
  boolean awaitSettled(int pages) throws InterruptedException {
    return await(() -> {
      DriverMetrics m = driver.metrics();
      return fake.balloonedCount() == pages && driver.actual() == pages
          && m.balloonPages() == pages && m.inflatedPages() - m.deflatedPages() == pages;
    });
  }

  /** Free pages once every cpu's lists are drained into the buddy. */
  long freePages() {
    pa.drainAllPages(null);
    return pa.freePages();
  }

  @Override
  public void close() throws InterruptedException {
    if (driver != null) {
      driver.stop();
    }
    client.close();
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
