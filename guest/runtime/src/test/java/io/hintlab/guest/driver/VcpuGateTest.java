package io.hintlab.guest.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.transport.TransportException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The vCPU gate with test threads as vCPUs that "write" (count) between safe points: PAUSE stops
 * every one of them, a write in flight ends before the answer, nothing is written between the
 * answer and RESUME; RESUME during the answer waits for it; a failed answer keeps the vCPUs
 * stopped; host loss, the run's end, the pause bound and close release them; programmer errors
 * throw with exact messages.
 */
class VcpuGateTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final AtomicLong writes = new AtomicLong();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final List<Thread> vcpus = new ArrayList<>();
  private final AtomicInteger answers = new AtomicInteger();
  private VcpuGate gate;

  @AfterEach
  void tearDown() throws InterruptedException {
    stop.set(true);
    if (gate != null) {
      gate.close();
    }
    for (Thread t : vcpus) {
      t.join(WAIT.toMillis());
      assertFalse(t.isAlive(), t.getName() + " ended");
    }
  }

  /** A vCPU writing between safe points until the test stops it. */
  private Thread spinning(String name) {
    Thread t = Thread.ofPlatform().name(name).daemon().start(() -> {
      gate.enter();
      try {
        while (!stop.get()) {
          writes.incrementAndGet();
          gate.checkpoint();
          Thread.yield(); // a busy vCPU, not a CPU hog on a shared test machine
        }
      } finally {
        gate.exit();
      }
    });
    vcpus.add(t);
    return t;
  }

  /** A vCPU in guest mode that writes once when {@code go} opens, then reaches a safe point. */
  private Thread holding(String name, CountDownLatch inGuest, CountDownLatch go,
      AtomicBoolean wrote) {
    Thread t = Thread.ofPlatform().name(name).daemon().start(() -> {
      gate.enter();
      try {
        inGuest.countDown();
        await(go);
        writes.incrementAndGet();
        wrote.set(true);
        gate.checkpoint();
      } finally {
        gate.exit();
      }
    });
    vcpus.add(t);
    return t;
  }

  private static void await(CountDownLatch l) {
    try {
      assertTrue(l.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "latch");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private VcpuGate started(VcpuGate.Answer answer, Duration maxPause) {
    gate = new VcpuGate(answer, maxPause);
    gate.start();
    return gate;
  }

  @Test
  void answersOnlyAfterEveryVcpuStoppedAndNothingIsWrittenUntilResume() throws Exception {
    long[] atAnswer = new long[1];
    AtomicBoolean wrote = new AtomicBoolean();
    boolean[] writeDoneAtAnswer = new boolean[1];
    CountDownLatch answered = new CountDownLatch(1);
    started(() -> {
      atAnswer[0] = writes.get();
      writeDoneAtAnswer[0] = wrote.get();
      answered.countDown();
      return 7;
    }, VcpuGate.MAX_PAUSE);
    spinning("vcpu-a");
    spinning("vcpu-b");
    CountDownLatch inGuest = new CountDownLatch(1);
    CountDownLatch go = new CountDownLatch(1);
    holding("vcpu-c", inGuest, go, wrote);
    await(inGuest);

    gate.pause();
    assertTrue(gate.awaitVcpusInGuest(1, WAIT), "the spinning vCPUs parked");
    assertEquals(VcpuGate.State.PAUSING, gate.state(), "a write is still in flight");
    assertEquals(1, answered.getCount(), "no answer while vcpu-c is in guest mode");
    go.countDown(); // the write in flight ends, then vcpu-c reaches its safe point
    await(answered);
    // the gate records the answer after the device call returns
    assertTrue(awaitState(VcpuGate.State.PAUSED));
    assertTrue(writeDoneAtAnswer[0], "the write in flight ended before the answer");
    assertTrue(gate.awaitVcpusInGuest(0, WAIT));
    assertEquals(atAnswer[0], writes.get(), "no write between the answer and RESUME");
    assertEquals(7, gate.lastOwnedPages());
    assertEquals(1, gate.pausedCount());

    gate.resume();
    assertEquals(VcpuGate.State.RUNNING, gate.state());
    awaitWritesAbove(atAnswer[0]);
  }

  @Test
  void answersAtOnceWhenNoVcpuIsInGuestMode() throws Exception {
    CountDownLatch answered = new CountDownLatch(1);
    started(() -> {
      answered.countDown();
      return 0;
    }, VcpuGate.MAX_PAUSE);
    gate.pause();
    await(answered);
    assertTrue(awaitState(VcpuGate.State.PAUSED));
    gate.resume();
    assertEquals(VcpuGate.State.RUNNING, gate.state());
    assertEquals(1, gate.pausedCount());
  }

  @Test
  void resumeDuringTheAnswerWaitsUntilTheAnswerReturned() throws Exception {
    CountDownLatch calling = new CountDownLatch(1);
    CountDownLatch reply = new CountDownLatch(1);
    started(() -> {
      calling.countDown();
      await(reply);
      return 3;
    }, VcpuGate.MAX_PAUSE);
    spinning("vcpu-a");
    gate.pause();
    await(calling);
    long frozen = writes.get();
    gate.resume();
    assertEquals(VcpuGate.State.PAUSING, gate.state(), "RESUME deferred while answering");
    assertEquals(0, gate.vcpusInGuest(), "the vCPU stays parked");
    assertEquals(frozen, writes.get());
    reply.countDown();
    assertTrue(awaitState(VcpuGate.State.RUNNING), "RESUME applied once the answer returned");
    assertEquals(1, gate.pausedCount());
  }

  @Test
  void pauseWhilePausedAnswersAgain() throws Exception {
    CountDownLatch twice = new CountDownLatch(2);
    started(() -> {
      answers.incrementAndGet();
      twice.countDown();
      return answers.get();
    }, VcpuGate.MAX_PAUSE);
    spinning("vcpu-a");
    gate.pause();
    assertTrue(awaitState(VcpuGate.State.PAUSED));
    gate.pause(); // the host's earlier pause timed out and it asks again
    await(twice);
    assertTrue(awaitState(VcpuGate.State.PAUSED));
    assertEquals(2, gate.pausedCount());
    assertEquals(2, gate.lastOwnedPages());
    assertEquals(0, gate.vcpusInGuest());
  }

  @Test
  void resumeBeforeTheVcpusStoppedCancelsThePauseWithoutAnAnswer() throws Exception {
    started(() -> answers.incrementAndGet(), VcpuGate.MAX_PAUSE);
    CountDownLatch inGuest = new CountDownLatch(1);
    CountDownLatch go = new CountDownLatch(1);
    AtomicBoolean wrote = new AtomicBoolean();
    Thread c = holding("vcpu-c", inGuest, go, wrote);
    await(inGuest);
    gate.pause();
    gate.resume(); // the host gave up waiting
    assertEquals(VcpuGate.State.RUNNING, gate.state());
    go.countDown();
    c.join(WAIT.toMillis());
    assertFalse(c.isAlive(), "its safe point let it through");
    assertTrue(wrote.get());
    assertEquals(0, answers.get(), "nobody asked for an answer any more");
    assertEquals(0, gate.pausedCount());
  }

  @Test
  void failedAnswerKeepsTheVcpusStoppedUntilResume() throws Exception {
    CountDownLatch answered = new CountDownLatch(1);
    long[] atAnswer = new long[1];
    started(() -> {
      atAnswer[0] = writes.get();
      answered.countDown();
      throw TransportException.local(TransportException.Reason.HOST_GONE, "Paused", "fake");
    }, VcpuGate.MAX_PAUSE);
    spinning("vcpu-a");
    gate.pause();
    await(answered);
    assertTrue(awaitState(VcpuGate.State.PAUSED), "stopped: the host may have the answer");
    assertEquals(0, gate.pausedCount());
    assertEquals(0, gate.vcpusInGuest());
    assertEquals(atAnswer[0], writes.get(), "nothing written after the failed answer");
    gate.resume();
    assertEquals(VcpuGate.State.RUNNING, gate.state());
    awaitWritesAbove(atAnswer[0]);
  }

  @Test
  void hostLossReleasesAPausedGuest() throws Exception {
    started(() -> 1, VcpuGate.MAX_PAUSE);
    Thread a = spinning("vcpu-a");
    gate.pause();
    assertTrue(awaitState(VcpuGate.State.PAUSED));
    long frozen = writes.get();
    gate.release("the host failed");
    assertEquals(VcpuGate.State.RUNNING, gate.state());
    awaitWritesAbove(frozen);
    assertTrue(a.isAlive());
    assertFalse(gate.overran());
  }

  @Test
  void aWakeConditionLetsTheSupervisorActWhileTheOthersStayParked() throws Exception {
    started(() -> 1, VcpuGate.MAX_PAUSE);
    spinning("vcpu-a");
    AtomicBoolean hostFailed = new AtomicBoolean();
    CountDownLatch inGuest = new CountDownLatch(1);
    CountDownLatch woken = new CountDownLatch(1);
    VcpuGate.State[] stateWhenWoken = new VcpuGate.State[1];
    int[] inGuestWhenWoken = {-1};
    Thread supervisor = Thread.ofPlatform().name("vcpu-control").daemon().start(() -> {
      gate.enter();
      inGuest.countDown();
      while (gate.checkpoint(hostFailed::get)) {
        Thread.yield();
      }
      stateWhenWoken[0] = gate.state();
      inGuestWhenWoken[0] = gate.vcpusInGuest();
      hostFailed.set(false); // the connector resumed the session
      woken.countDown();
      assertTrue(gate.enter(hostFailed::get), "back in guest mode after RESUME");
      gate.exit();
    });
    vcpus.add(supervisor);
    await(inGuest);
    gate.pause();
    assertTrue(awaitState(VcpuGate.State.PAUSED));
    long frozen = writes.get();
    hostFailed.set(true);
    gate.nudge();
    await(woken);
    assertEquals(VcpuGate.State.PAUSED, stateWhenWoken[0], "the pause goes on");
    assertEquals(0, inGuestWhenWoken[0], "woken out of guest mode, the others parked");
    assertEquals(frozen, writes.get());
    gate.resume();
    supervisor.join(WAIT.toMillis());
    assertFalse(supervisor.isAlive());
    awaitWritesAbove(frozen);
  }

  @Test
  void theRunsEndReleasesAPausedVcpu() throws Exception {
    gate = new VcpuGate(() -> 1, VcpuGate.MAX_PAUSE);
    gate.setRunEnd(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300));
    gate.start();
    CountDownLatch inGuest = new CountDownLatch(1);
    CountDownLatch go = new CountDownLatch(1);
    AtomicBoolean wrote = new AtomicBoolean();
    Thread c = holding("vcpu-c", inGuest, go, wrote);
    await(inGuest);
    gate.pause();
    go.countDown();
    c.join(WAIT.toMillis());
    assertFalse(c.isAlive(), "the run's end let the parked vCPU go, without RESUME");
    assertEquals(VcpuGate.State.RUNNING, gate.state());
    assertFalse(gate.overran(), "the run's end is not the host's fault");
  }

  @Test
  void aPauseLongerThanTheBoundReleasesAndIsFlagged() throws Exception {
    started(() -> 1, Duration.ofMillis(300));
    CountDownLatch inGuest = new CountDownLatch(1);
    CountDownLatch go = new CountDownLatch(1);
    AtomicBoolean wrote = new AtomicBoolean();
    Thread c = holding("vcpu-c", inGuest, go, wrote);
    await(inGuest);
    gate.pause();
    go.countDown();
    c.join(WAIT.toMillis());
    assertFalse(c.isAlive(), "the bound let the parked vCPU go");
    assertTrue(gate.overran());
  }

  @Test
  void closeReleasesParkedVcpusAndTurnsEverythingIntoNoOps() throws Exception {
    started(() -> 1, VcpuGate.MAX_PAUSE);
    Thread a = spinning("vcpu-a");
    gate.pause();
    assertTrue(awaitState(VcpuGate.State.PAUSED));
    stop.set(true);
    gate.close();
    a.join(WAIT.toMillis());
    assertFalse(a.isAlive(), "the parked vCPU went on and ended");
    assertEquals(VcpuGate.State.CLOSED, gate.state());
    gate.pause();
    gate.resume();
    gate.exit(); // not in guest mode, but closed: nothing is checked any more
    gate.checkpoint();
    gate.enter();
    gate.enter();
    assertEquals(VcpuGate.State.CLOSED, gate.state());
    gate.close(); // idempotent
  }

  @Test
  void aDisabledGateStopsNothing() {
    VcpuGate d = VcpuGate.disabled();
    d.enter();
    d.pause();
    d.checkpoint();
    d.exit();
    assertEquals(VcpuGate.State.CLOSED, d.state());
    assertEquals("VcpuGate.start: the gate is closed",
        assertThrows(IllegalStateException.class, d::start).getMessage());
    d.close();
  }

  @Test
  void programmerErrorsThrowWithExactMessages() throws Exception {
    started(() -> 1, VcpuGate.MAX_PAUSE);
    String me = Thread.currentThread().getName();
    assertEquals("VcpuGate.exit: " + me + " is not in guest mode",
        assertThrows(IllegalStateException.class, gate::exit).getMessage());
    gate.enter();
    assertEquals("VcpuGate.enter: " + me + " is already in guest mode",
        assertThrows(IllegalStateException.class, gate::enter).getMessage());
    gate.exit();
    gate.pause();
    assertEquals("VcpuGate.checkpoint: " + me + " is not in guest mode",
        assertThrows(IllegalStateException.class, gate::checkpoint).getMessage());
    assertEquals("VcpuGate.start: already started",
        assertThrows(IllegalStateException.class, gate::start).getMessage());
    assertEquals("answer must not be null",
        assertThrows(IllegalArgumentException.class, () -> new VcpuGate(null)).getMessage());
    assertEquals("maxPause must be positive, got PT0S",
        assertThrows(IllegalArgumentException.class,
            () -> new VcpuGate(() -> 0, Duration.ZERO)).getMessage());
  }

  /** Waits on the gate's monitor for its state. */
  private boolean awaitState(VcpuGate.State s) throws InterruptedException {
    return gate.awaitState(s, WAIT);
  }

  /** Waits (bounded, yielding) until the vCPUs wrote again after {@code n} writes. */
  private void awaitWritesAbove(long n) {
    long end = System.nanoTime() + WAIT.toNanos();
    while (writes.get() <= n) {
      assertTrue(System.nanoTime() - end < 0, "no write after " + n + " within " + WAIT);
      Thread.yield();
    }
  }
}
