package io.hintlab.host.lab;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The child processes of one lab run, so that whoever ends the run (its own cleanup, or the
 * shutdown hook on Ctrl-C or SIGTERM) stops all of them, the newest first: the guest before the
 * host it is attached to, so the guest never sees its host vanish and starts reconnecting.
 *
 * <p><b>Note:</b> thread-safe; the run and the shutdown hook may stop the children at once.
 */
public final class LabChildren {
  private final List<ChildProcess> children = new ArrayList<>();

  /**
   * Registers a child.
   *
   * @param child a started process
   * @return {@code child}
   */
  public synchronized ChildProcess add(ChildProcess child) {
    children.add(child);
    return child;
  }

  /**
   * Stops every child still running, newest first, each within {@code grace} (SIGTERM, then
   * SIGKILL after {@code grace}).
   *
   * @param grace the wait after each signal
   * @return the names of the children that had to be stopped (were still running)
   */
  public synchronized List<String> stopAll(Duration grace) {
    List<String> stopped = new ArrayList<>();
    for (ChildProcess c : children.reversed()) {
      if (!c.isAlive()) {
        continue;
      }
      stopped.add(c.name());
      try {
        c.stop(grace);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        c.close();
      }
    }
    return stopped;
  }
}
