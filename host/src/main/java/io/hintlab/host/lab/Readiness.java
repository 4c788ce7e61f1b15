package io.hintlab.host.lab;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Bounded polling for a child to become ready (e.g. the control service answering). */
public final class Readiness {

  private Readiness() {}

  /**
   * Polls {@code ready} every {@code interval} until it returns true, failing fast if one of
   * {@code children} dies and failing when {@code timeout} passes.
   *
   * @param what the thing waited for, used in the timeout message
   * @throws IllegalStateException naming the dead child (with its log tail) or the timeout
   */
  public static void await(
      String what, BooleanSupplier ready, Duration timeout, Duration interval,
      ChildProcess... children)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      for (ChildProcess c : children) {
        c.checkAlive();
      }
      if (ready.getAsBoolean()) {
        return;
      }
      if (System.nanoTime() - deadline >= 0) {
        throw new IllegalStateException(
            "timed out after " + timeout.toMillis() + " ms waiting for " + what);
      }
      Thread.sleep(interval.toMillis());
    }
  }
}
