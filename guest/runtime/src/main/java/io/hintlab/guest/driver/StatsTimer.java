package io.hintlab.guest.driver;

import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.transport.DeviceClient;
import io.hintlab.guest.transport.TransportException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stats queue's side of the driver on one named thread ({@value #THREAD_NAME}): a stats
 * buffer at once ({@code init_vqs()} primes the queue with one) and then every interval ({@code
 * stats_request()} -> {@code stats_handle_request()}; in Linux the device asks by using the
 * buffer, here the driver sends on a timer, as the host polls at a fixed interval).
 *
 * <p>A failed send is counted and the timer goes on. Nothing is sent while the driver's {@code
 * stop_update} is set ({@code sending} false). Each send runs in guest mode under the run's
 * {@link VcpuGate}, so a paused guest sends nothing until RESUME.
 *
 * <p><b>Note:</b> thread-safe; {@link #stop} is idempotent and waits for the thread at most the
 * given bound (a send in flight ends within its deadline).
 */
final class StatsTimer {
  /** The stats thread's name. */
  static final String THREAD_NAME = "virtio-balloon-stats";

  private static final Logger LOG = LoggerFactory.getLogger(StatsTimer.class);

  private final PageAllocator allocator;
  private final DeviceClient client;
  private final Duration interval;
  private final DriverCounters counters;
  private final BooleanSupplier sending;
  private final CountDownLatch stop = new CountDownLatch(1);
  private final int[] tags = new int[BalloonStats.ENTRIES];
  private final long[] values = new long[BalloonStats.ENTRIES];
  private final Thread thread;
  private volatile VcpuGate gate = VcpuGate.disabled();

  StatsTimer(PageAllocator allocator, DeviceClient client, Duration interval,
      DriverCounters counters, BooleanSupplier sending) {
    if (interval.isZero() || interval.isNegative()) {
      throw new IllegalArgumentException("stats interval must be positive, was " + interval);
    }
    this.allocator = allocator;
    this.client = client;
    this.interval = interval;
    this.counters = counters;
    this.sending = sending;
    this.thread = Thread.ofPlatform().name(THREAD_NAME).daemon().unstarted(this::run);
  }

  /** Sets the gate each send runs under (before {@link #start()}). */
  void setGate(VcpuGate g) {
    gate = g;
  }

  /** Starts the thread. */
  void start() {
    thread.start();
  }

  private void run() {
    try {
      do {
        if (sending.getAsBoolean()) {
          VcpuGate g = gate;
          g.enter(); // the stats work runs on a vCPU: a paused guest sends nothing
          try {
            statsHandleRequest();
          } finally {
            g.exit();
          }
        }
      } while (!stop.await(interval.toNanos(), TimeUnit.NANOSECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // nobody else interrupts this thread: end quietly
    }
  }

  /** stats_handle_request(): fill the buffer and hand it to the device. */
  private void statsHandleRequest() {
    int n = BalloonStats.update(allocator, tags, values);
    try {
      if (client.session().isEmpty()) {
        throw TransportException.local(TransportException.Reason.SESSION_LOST, "Stats",
            "no session");
      }
      client.stats(tags, values, n);
      counters.statsSent.increment();
    } catch (TransportException e) {
      counters.failures.increment();
      LOG.debug("virtio_balloon: stats not sent: {}", e.getMessage());
    }
  }

  /**
   * Stops the timer and waits for its thread.
   *
   * @param bound the longest wait
   */
  void stop(Duration bound) {
    stop.countDown();
    if (thread.getState() == Thread.State.NEW || thread == Thread.currentThread()) {
      return;
    }
    try {
      thread.join(bound);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      LOG.warn("virtio_balloon: stats thread still running {} after stop", bound);
    }
  }
}
