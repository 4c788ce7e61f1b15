package io.hintlab.guest.reporting;

import java.time.Duration;

/**
 * Where the reporting agent's delayed work runs: the model of {@code schedule_delayed_work()} on
 * the kernel's system workqueue. {@link ExecutorWorkScheduler} runs it on one named daemon thread
 * after real time passes; {@link ManualWorkScheduler} runs it on the caller's thread when a test or
 * a simulation advances its clock.
 *
 * <p>Implementations run one piece of work at a time, in the order it falls due.
 */
public interface WorkScheduler extends AutoCloseable {
  /**
   * Runs {@code work} once after {@code delay}.
   *
   * <p>May be called from any thread, also with a zone lock held (the free path's notifier): it
   * only queues the work and never runs it on the calling thread.
   *
   * @param work the work
   * @param delay the delay, at least zero
   * @return false if the scheduler is closed and the work was dropped
   */
  boolean schedule(Runnable work, Duration delay);

  /**
   * Drops the work not yet started, waits a bounded time for running work to end, then interrupts
   * it. Idempotent; never throws.
   */
  @Override
  void close();
}
