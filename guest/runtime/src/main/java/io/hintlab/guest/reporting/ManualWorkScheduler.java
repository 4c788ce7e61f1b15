package io.hintlab.guest.reporting;

import java.time.Duration;
import java.util.Comparator;
import java.util.Optional;
import java.util.PriorityQueue;

/**
 * A {@link WorkScheduler} on a virtual clock for tests and simulations: time stands still until
 * {@link #advance} moves it, and due work then runs on the caller's thread in due order (work
 * scheduled while it runs, and due within the same advance, runs too). Nothing sleeps, so a test of
 * a 2 s delay takes no real time, and the order of events is deterministic.
 *
 * <p><b>Note:</b> {@link #schedule} is thread-safe (the free path may call it from any thread);
 * {@link #advance} and {@link #runNext} are meant for one driving thread.
 */
public final class ManualWorkScheduler implements WorkScheduler {
  private record Task(long dueNanos, long seq, Runnable work) {}

  private final PriorityQueue<Task> queue =
      new PriorityQueue<>(Comparator.comparingLong(Task::dueNanos).thenComparingLong(Task::seq));
  private long nowNanos;
  private long seq;
  private boolean closed;

  /** Creates a scheduler at virtual time zero. */
  public ManualWorkScheduler() {}

  @Override
  public synchronized boolean schedule(Runnable work, Duration delay) {
    if (closed) {
      return false;
    }
    queue.add(new Task(nowNanos + delay.toNanos(), seq++, work));
    return true;
  }

  /** The virtual time since creation. */
  public synchronized Duration now() {
    return Duration.ofNanos(nowNanos);
  }

  /** The number of pieces of work waiting. */
  public synchronized int pending() {
    return queue.size();
  }

  /** How long until the next work falls due, if any is waiting. */
  public synchronized Optional<Duration> nextDue() {
    Task t = queue.peek();
    return t == null ? Optional.empty() : Optional.of(Duration.ofNanos(t.dueNanos - nowNanos));
  }

  /**
   * Moves the clock forward by {@code d}, running every piece of work that falls due on the way.
   *
   * @param d how far, at least zero
   * @return the number of pieces of work run
   * @throws IllegalArgumentException if d is negative
   */
  public int advance(Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("cannot advance by a negative duration: " + d);
    }
    long target;
    synchronized (this) {
      target = nowNanos + d.toNanos();
    }
    int ran = 0;
    while (true) {
      Task t;
      synchronized (this) {
        t = queue.peek();
        if (t == null || t.dueNanos > target) {
          nowNanos = Math.max(nowNanos, target);
          return ran;
        }
        queue.poll();
        nowNanos = Math.max(nowNanos, t.dueNanos);
      }
      t.work.run(); // outside the monitor: the work may schedule more
      ran++;
    }
  }

  /**
   * Moves the clock to the next due work and runs it.
   *
   * @return whether there was work to run
   */
  public boolean runNext() {
    Task t;
    synchronized (this) {
      t = queue.poll();
      if (t == null) {
        return false;
      }
      nowNanos = Math.max(nowNanos, t.dueNanos);
    }
    t.work.run();
    return true;
  }

  /** Drops the waiting work; later {@link #schedule} calls are refused. Idempotent. */
  @Override
  public synchronized void close() {
    closed = true;
    queue.clear();
  }
}
