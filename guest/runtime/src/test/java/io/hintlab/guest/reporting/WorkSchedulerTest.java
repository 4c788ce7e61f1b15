package io.hintlab.guest.reporting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The two schedulers: virtual time in due order, and one named thread with a bounded close. */
class WorkSchedulerTest {
  @Test
  void shouldRunManualWorkInDueOrderOnlyWhenTheClockReachesIt() {
    ManualWorkScheduler m = new ManualWorkScheduler();
    List<String> ran = new ArrayList<>();
    m.schedule(() -> ran.add("b"), Duration.ofSeconds(2));
    m.schedule(() -> ran.add("a"), Duration.ofSeconds(1));
    m.schedule(() -> ran.add("c"), Duration.ofSeconds(2));
    assertEquals(3, m.pending());
    assertEquals(Optional.of(Duration.ofSeconds(1)), m.nextDue());
    assertEquals(1, m.advance(Duration.ofMillis(1500)));
    assertEquals(List.of("a"), ran);
    assertEquals(Duration.ofMillis(1500), m.now());
    assertEquals(2, m.advance(Duration.ofSeconds(1)));
    assertEquals(List.of("a", "b", "c"), ran, "same due time: in scheduling order");
    assertEquals(Duration.ofMillis(2500), m.now());
    assertEquals(Optional.empty(), m.nextDue());
  }

  @Test
  void shouldRunWorkScheduledByWorkWithinTheSameAdvance() {
    ManualWorkScheduler m = new ManualWorkScheduler();
    List<Duration> ranAt = new ArrayList<>();
    Runnable[] chain = new Runnable[1];
    chain[0] =
        () -> {
          ranAt.add(m.now());
          m.schedule(chain[0], Duration.ofSeconds(2));
        };
    m.schedule(chain[0], Duration.ofSeconds(2));
    assertEquals(3, m.advance(Duration.ofSeconds(7)));
    assertEquals(
        List.of(Duration.ofSeconds(2), Duration.ofSeconds(4), Duration.ofSeconds(6)), ranAt);
    assertTrue(m.runNext());
    assertEquals(Duration.ofSeconds(8), m.now());
  }

  @Test
  void shouldRefuseWorkAfterCloseAndRejectGoingBackInTime() {
    ManualWorkScheduler m = new ManualWorkScheduler();
    m.schedule(() -> {}, Duration.ZERO);
    m.close();
    m.close();
    assertEquals(0, m.pending());
    assertFalse(m.schedule(() -> {}, Duration.ZERO));
    assertFalse(m.runNext());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> m.advance(Duration.ofSeconds(-1)));
    assertEquals("cannot advance by a negative duration: PT-1S", e.getMessage());
  }

  @Test
  void shouldInterruptWorkThatOutlivesTheCloseTimeout() throws Exception {
    ExecutorWorkScheduler e = new ExecutorWorkScheduler("stuck", Duration.ofMillis(100));
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    assertTrue(
        e.schedule(
            () -> {
              started.countDown();
              try {
                Thread.sleep(60_000);
              } catch (InterruptedException ie) {
                interrupted.countDown();
              }
            },
            Duration.ZERO));
    assertTrue(started.await(5, TimeUnit.SECONDS));
    long t0 = System.nanoTime();
    e.close();
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertTrue(ms >= 90 && ms < 2000, "close took " + ms + " ms");
    assertTrue(interrupted.await(1, TimeUnit.SECONDS));
    assertTrue(e.isTerminated());
    assertFalse(e.schedule(() -> {}, Duration.ZERO), "closed");
    e.close();
    assertEquals("stuck", e.threadName());
  }

  @Test
  void shouldDropDelayedWorkOnClose() throws Exception {
    ExecutorWorkScheduler e = new ExecutorWorkScheduler("idle", Duration.ofSeconds(1));
    CountDownLatch ran = new CountDownLatch(1);
    e.schedule(ran::countDown, Duration.ofSeconds(30));
    e.close();
    assertTrue(e.isTerminated());
    assertFalse(ran.await(50, TimeUnit.MILLISECONDS));
  }

  @Test
  void shouldRejectBadThreadNamesAndTimeouts() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new ExecutorWorkScheduler(" ", Duration.ofSeconds(1)));
    assertEquals("threadName must not be blank", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new ExecutorWorkScheduler("x", Duration.ofSeconds(-1)));
    assertEquals("closeTimeout must be >= 0, got PT-1S", e.getMessage());
  }
}
