package io.hintlab.host.lab;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

/**
 * The lifecycle around one lab run ({@code pair}, {@code demo}, each run of {@code migrate}): a
 * private {@link LabDir}, the {@link LabChildren} started in it, and a shutdown hook that stops
 * them if the JVM is told to exit during the run (Ctrl-C, SIGTERM). At the end every child still
 * running is stopped (bounded: {@link #STOP_GRACE} per signal) and the directory deleted, its
 * logs kept when the run failed or asked for it.
 *
 * <p>Threads: the caller's thread runs the body; the shutdown hook ({@code hintlab-TASK-shutdown})
 * runs only when the JVM is asked to exit during the run.
 */
final class LabSession {
  /** Wait after SIGTERM (and again after SIGKILL) when a child is stopped. */
  static final Duration STOP_GRACE = Duration.ofSeconds(5);

  /** What runs inside the session. */
  @FunctionalInterface
  interface Body<T> {
    /** Runs with the session's directory and children. */
    T run(LabDir dir, LabChildren children) throws IOException, InterruptedException;
  }

  private final String task;
  private final PrintStream err;
  private final AtomicBoolean signalled = new AtomicBoolean();

  /**
   * A session.
   *
   * @param task the name in messages ("pair", "demo", "migrate")
   * @param err where status lines go
   */
  LabSession(String task, PrintStream err) {
    this.task = task;
    this.err = err;
  }

  /**
   * Runs {@code body} in a fresh lab directory, then stops its children and cleans up.
   *
   * @param body the run
   * @param keepLogs whether a result that came back should keep the logs
   * @return what {@code body} returned
   * @throws IllegalStateException ({@code TASK interrupted}) if the shutdown hook stopped the
   *     children under the body; otherwise whatever the body threw (the logs are then kept)
   */
  <T> T run(Body<T> body, Predicate<T> keepLogs) throws IOException, InterruptedException {
    LabDir dir = LabDir.create();
    LabChildren children = new LabChildren();
    Thread hook = Thread.ofPlatform().name("hintlab-" + task + "-shutdown")
        .unstarted(() -> interrupted(children, dir));
    Runtime.getRuntime().addShutdownHook(hook);
    boolean keep = true;
    try {
      T r = body.run(dir, children);
      keep = keepLogs.test(r);
      return r;
    } catch (RuntimeException e) {
      if (signalled.get()) {
        // the children died because the hook stopped them: say that, not "guest died"
        throw new IllegalStateException(task + " interrupted", e);
      }
      throw e;
    } finally {
      children.stopAll(STOP_GRACE);
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running (or about to): it stops the children and keeps the logs
      }
      cleanUp(dir, keep);
    }
  }

  /** Shutdown hook: the run was told to exit while its children run. */
  private void interrupted(LabChildren children, LabDir dir) {
    signalled.set(true);
    List<String> stopped = children.stopAll(STOP_GRACE);
    if (!stopped.isEmpty()) {
      err.println();
      err.printf("hintlab %s: interrupted; stopped %s; logs kept in %s%n", task,
          String.join(" and ", stopped), dir.path());
    }
    try {
      dir.delete(true);
    } catch (IOException e) {
      // the run's own cleanup may be deleting the same files: whatever is left is private
    }
  }

  private void cleanUp(LabDir dir, boolean keepLogs) {
    try {
      dir.delete(keepLogs);
    } catch (IOException e) {
      err.printf("hintlab %s: could not clean up %s: %s%n", task, dir.path(), e.getMessage());
    }
    if (keepLogs && !signalled.get()) {
      err.printf("hintlab %s: logs kept in %s%n", task, dir.path());
    }
  }
}
