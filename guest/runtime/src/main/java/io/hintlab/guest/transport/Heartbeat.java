package io.hintlab.guest.transport;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a session's lease alive: one Heartbeat call every {@code interval}, on one named daemon
 * thread ({@value #THREAD_NAME}), each call with its deadline. Started by {@link
 * DeviceClient#startHeartbeat}.
 *
 * <p>A failed beat is handed to the failure listener and the beats go on (a host that was briefly
 * gone may come back before the lease runs out), except after SESSION_LOST: the token will never
 * be valid again, so the heartbeat stops itself. Calls are spaced with a fixed delay, so a beat
 * that waits for its deadline never piles up behind another.
 *
 * <p><b>Note:</b> thread-safe. {@link #close()} is idempotent and bounded: it interrupts a beat
 * in flight (gRPC cancels the call) and waits at most {@link #CLOSE_TIMEOUT} for the thread. The
 * failure listener runs on the heartbeat thread: it should hand reconnecting to the driver's own
 * thread rather than block here (closing from the listener is fine).
 */
public final class Heartbeat implements AutoCloseable {
  /** The heartbeat thread's name. */
  public static final String THREAD_NAME = "hintlab-heartbeat";

  /** The longest {@link #close()} waits for the heartbeat thread to end. */
  public static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(2);

  private static final Logger LOG = LoggerFactory.getLogger(Heartbeat.class);

  /** One beat: a Heartbeat call with its deadline. */
  @FunctionalInterface
  interface Beat {
    void run() throws TransportException;
  }

  private final ScheduledExecutorService executor;
  private final AtomicReference<Thread> thread = new AtomicReference<>();
  private final Beat beat;
  private final Consumer<TransportException> onFailure;
  private final AtomicLong beats = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private volatile boolean closed;

  private Heartbeat(Beat beat, Consumer<TransportException> onFailure) {
    ThreadFactory named = Thread.ofPlatform().name(THREAD_NAME).daemon().factory();
    ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = named.newThread(r);
      thread.set(t); // one core thread: close() joins it
      return t;
    });
    e.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    this.executor = e;
    this.beat = beat;
    this.onFailure = onFailure;
  }

  /**
   * Starts beating; the first beat comes after one interval (attach just renewed the lease).
   *
   * @param interval the delay between the end of one beat and the start of the next
   * @param beat one Heartbeat call
   * @param onFailure told about each failed beat, on the heartbeat thread
   * @return the running heartbeat
   */
  static Heartbeat start(Duration interval, Beat beat, Consumer<TransportException> onFailure) {
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("heartbeat interval must be positive, was " + interval);
    }
    Heartbeat h = new Heartbeat(beat, onFailure);
    long ns = interval.toNanos();
    h.executor.scheduleWithFixedDelay(h::tick, ns, ns, TimeUnit.NANOSECONDS);
    return h;
  }

  private void tick() {
    try {
      beat.run();
      beats.incrementAndGet();
    } catch (TransportException e) {
      if (closed) {
        return; // close() interrupted the call: not a failure of the host
      }
      failures.incrementAndGet();
      LOG.debug("transport: heartbeat failed: {}", e.getMessage());
      try {
        onFailure.accept(e);
      } catch (RuntimeException listenerBug) {
        LOG.warn("transport: heartbeat failure listener threw", listenerBug);
      }
      if (e.reason() == TransportException.Reason.SESSION_LOST) {
        executor.shutdown(); // the token is dead: beating on is pointless
      }
    } catch (RuntimeException e) {
      // An exception escaping a scheduled task would cancel the schedule silently.
      failures.incrementAndGet();
      LOG.warn("transport: heartbeat beat threw", e);
    }
  }

  /**
   * Heartbeats the host acknowledged so far.
   *
   * @return the count
   */
  public long beats() {
    return beats.get();
  }

  /**
   * Heartbeats that failed so far.
   *
   * @return the count
   */
  public long failures() {
    return failures.get();
  }

  /**
   * Whether beats are still scheduled (false after close or SESSION_LOST).
   *
   * @return true while running
   */
  public boolean running() {
    return !executor.isShutdown();
  }

  /**
   * Stops beating: interrupts a beat in flight and joins the thread, waiting at most {@link
   * #CLOSE_TIMEOUT} in all. Idempotent.
   */
  @Override
  public void close() {
    closed = true;
    Thread t = thread.get();
    if (t == Thread.currentThread()) {
      // Closed by the failure listener on the heartbeat thread: neither interrupt nor wait for
      // ourselves; the thread ends when the listener returns.
      executor.shutdown();
      return;
    }
    executor.shutdownNow();
    long end = System.nanoTime() + CLOSE_TIMEOUT.toNanos();
    try {
      executor.awaitTermination(CLOSE_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS);
      long left = end - System.nanoTime();
      if (t != null && left > 0) {
        t.join(Duration.ofNanos(left)); // the pool is terminated a moment before its thread ends
      }
      if (t != null && t.isAlive()) {
        LOG.warn("transport: heartbeat thread still running {} after close", CLOSE_TIMEOUT);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
