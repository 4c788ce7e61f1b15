package io.hintlab.guest.reporting;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link WorkScheduler} on one named daemon thread (a single-thread {@link
 * ScheduledThreadPoolExecutor}), the shape of an Agrona {@code AgentRunner}: {@link #close()}
 * cancels pending work, joins the running work for at most the close timeout, then interrupts it
 * and waits once more for the same time.
 *
 * <p><b>Note:</b> thread-safe.
 */
public final class ExecutorWorkScheduler implements WorkScheduler {
  /**
   * How long {@link #close()} waits for a running pass before interrupting it, and again after. A
   * pass blocks only in the report call, which carries its own deadline, so a few seconds cover a
   * well-behaved transport.
   */
  public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(5);

  private static final Logger LOG = LoggerFactory.getLogger(ExecutorWorkScheduler.class);

  private final String threadName;
  private final Duration closeTimeout;
  private final ScheduledThreadPoolExecutor executor;
  private volatile Thread thread;

  /**
   * Creates the scheduler; its thread starts with the first work.
   *
   * @param threadName the name of the thread (the agent's role name)
   * @param closeTimeout how long close waits before and after interrupting
   * @throws IllegalArgumentException if the name is null or blank or the timeout null or negative
   */
  public ExecutorWorkScheduler(String threadName, Duration closeTimeout) {
    if (threadName == null || threadName.isBlank()) {
      throw new IllegalArgumentException("threadName must not be blank");
    }
    if (closeTimeout == null || closeTimeout.isNegative()) {
      throw new IllegalArgumentException("closeTimeout must be >= 0, got " + closeTimeout);
    }
    this.threadName = threadName;
    this.closeTimeout = closeTimeout;
    this.executor = new ScheduledThreadPoolExecutor(1, this::newThread);
    executor.setRemoveOnCancelPolicy(true);
    executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    executor.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
  }

  private Thread newThread(Runnable r) {
    Thread t = new Thread(r, threadName);
    t.setDaemon(true);
    thread = t;
    return t;
  }

  /** The name of the thread the work runs on. */
  public String threadName() {
    return threadName;
  }

  @Override
  public boolean schedule(Runnable work, Duration delay) {
    try {
      executor.schedule(work, delay.toNanos(), TimeUnit.NANOSECONDS);
      return true;
    } catch (RejectedExecutionException e) {
      return false; // closed
    }
  }

  /** Whether the thread has ended (or never started) after {@link #close()}. */
  public boolean isTerminated() {
    return executor.isTerminated();
  }

  @Override
  public void close() {
    executor.shutdown();
    if (Thread.currentThread() == thread) {
      return; // closed from its own work: it ends when that work returns
    }
    boolean interrupted = false;
    try {
      if (!await()) {
        executor.shutdownNow();
        if (!await()) {
          LOG.warn("{}: work still running {} after interrupt", threadName, closeTimeout);
        }
      }
    } catch (InterruptedException e) {
      executor.shutdownNow();
      interrupted = true;
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private boolean await() throws InterruptedException {
    return executor.awaitTermination(closeTimeout.toNanos(), TimeUnit.NANOSECONDS);
  }
}
