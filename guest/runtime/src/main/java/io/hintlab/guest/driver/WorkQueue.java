package io.hintlab.guest.driver;

import io.hintlab.guest.transport.ConfigSpace;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The driver's two work items and the config they read, between the config listener (which only
 * queues, like {@code virtballoon_changed()} in interrupt context) and the driver's thread (which
 * runs them, like {@code system_freezable_wq} and {@code balloon_wq}).
 *
 * <ul>
 *   <li><b>Size work</b> ({@code update_balloon_size_work}): queued by every config change and by
 *       the work itself while the balloon is not at its target, optionally not before a delay
 *       (the 200 ms after "Out of puff!"). Queueing work that is already queued does nothing, as
 *       {@code queue_work()} does; a config change does not cut a delay short.
 *   <li><b>Command id work</b> ({@code report_free_page_work}): queued by config changes when free
 *       page hinting is on; it reads the latest id when it runs ({@code
 *       VIRTIO_BALLOON_CONFIG_READ_CMD_ID}), so ids that changed twice before it ran are seen
 *       once, at their latest value, as in Linux. It runs before size work, even during the
 *       delay: in Linux it is on its own workqueue and never waits behind {@code msleep(200)}.
 * </ul>
 *
 * <p><b>Note:</b> thread-safe; the monitor guards every field.
 */
final class WorkQueue {
  /** A work item. */
  enum Item {
    /** update_balloon_size_func(). */
    SIZE,
    /** report_free_page_func(): hand the command id to the hint target. */
    CMD_ID
  }

  private ConfigSpace config = new ConfigSpace(0, 0, 0, 0);
  private boolean sizeQueued;
  private long sizeNotBefore = System.nanoTime();
  private boolean cmdIdQueued;
  private boolean stopped;

  /**
   * A config change: records the config and queues size work, and command id work if asked.
   *
   * @param c the config space now
   * @param cmdIdWork whether to queue the command id work (FREE_PAGE_HINT and a target)
   * @return false if the queue is stopped (nothing queued)
   */
  synchronized boolean configChanged(ConfigSpace c, boolean cmdIdWork) {
    if (stopped) {
      return false;
    }
    config = c;
    sizeQueued = true;
    cmdIdQueued |= cmdIdWork;
    notifyAll();
    return true;
  }

  /**
   * Queues size work again, to run no sooner than {@code delay} from now.
   *
   * @param delay zero to run as soon as the thread is free
   */
  synchronized void requeueSize(Duration delay) {
    if (!stopped) {
      sizeQueued = true;
      sizeNotBefore = System.nanoTime() + delay.toNanos();
      notifyAll();
    }
  }

  /** The last config the device sent. */
  synchronized ConfigSpace config() {
    return config;
  }

  /** Drops queued work ({@code stop_update}: work queued before is cancelled too). */
  synchronized void cancel() {
    sizeQueued = false;
    cmdIdQueued = false;
  }

  /** Stops the queue: {@link #next} returns null from now on. Idempotent. */
  synchronized void stop() {
    stopped = true;
    cancel();
    notifyAll();
  }

  /**
   * Waits for the next item: command id work first, then size work once its delay has passed.
   *
   * @return the item, or null once stopped
   * @throws InterruptedException if the driver's thread is interrupted
   */
  synchronized Item next() throws InterruptedException {
    while (!stopped) {
      if (cmdIdQueued) {
        cmdIdQueued = false;
        return Item.CMD_ID;
      }
      if (!sizeQueued) {
        wait();
        continue;
      }
      long left = sizeNotBefore - System.nanoTime();
      if (left <= 0) {
        sizeQueued = false;
        return Item.SIZE;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return null;
  }
}
