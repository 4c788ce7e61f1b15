package io.hintlab.guest.driver;

import io.hintlab.guest.reporting.ReportingAgent;
import io.hintlab.guest.transport.TransportException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guest's vCPUs as the host stops them for live migration: device.proto's PAUSE and RESUME
 * config events and the guest's Paused answer. A VMM stops vCPUs from outside ({@code
 * pause_all_vcpus()} in QEMU kicks each vCPU out of guest mode and waits until it is out); here
 * every thread that writes guest RAM or changes the allocator is a vCPU that cooperates: it runs
 * guest code between {@link #enter()} and {@link #exit()} and calls {@link #checkpoint()} at its
 * safe points (no lock held, no page write half done), where it parks while the guest is paused.
 * A vCPU outside guest mode, waiting for work, for its next tick or for the device in a call (a VM
 * exit), is stopped as it is. The vCPUs of a run: the control thread (workload steps, idle ticks),
 * the reporting thread (a pass; its device calls outside), the driver's thread (a work item) and
 * the stats timer (a send).
 *
 * <p>The gate's own thread, {@value #THREAD_NAME}, waits until no vCPU is in guest mode, then
 * calls the {@link Answer} (the owned pages and lost writes, {@code DeviceClient.paused()}). A
 * write in flight when PAUSE arrives is inside some vCPU's guest mode, so it ends before the
 * answer; after the answer nothing enters guest mode until RESUME.
 *
 * <p><b>Host loss.</b> A paused VM does not run because its management connection hiccups, so a
 * failed heartbeat does not end a pause. The run's supervising vCPU waits with a wake condition
 * ({@link #checkpoint(BooleanSupplier)}, {@link #enter(BooleanSupplier)}) and is woken ({@link
 * #nudge()}) to ask the connector, out of guest mode, while the others stay parked; only a host
 * lost for good (or a SHUTDOWN) {@link #release}s the pause.
 *
 * <p><b>State.</b> One atomic field, changed only by {@link #pause()}, {@link #resume()}, {@link
 * #release}, {@link #close()} and the gate's thread, all under the monitor:
 *
 * <table>
 *   <caption>State transitions</caption>
 *   <tr><th>state</th><th>event</th><th>new state</th><th>action</th></tr>
 *   <tr><td>RUNNING</td><td>PAUSE</td><td>PAUSING</td><td>vCPUs park at their next safe point
 *       or entry; the gate's thread waits until none is in guest mode</td></tr>
 *   <tr><td>PAUSING</td><td>no vCPU in guest mode</td><td>PAUSING</td><td>the answer is sent
 *       (answering)</td></tr>
 *   <tr><td>PAUSING</td><td>the answer returned</td><td>PAUSED</td><td>counted if the device
 *       took it; a failed answer leaves the vCPUs stopped until RESUME or host loss (the device
 *       may have taken it and lost only the reply)</td></tr>
 *   <tr><td>PAUSING (not answering), PAUSED</td><td>RESUME</td><td>RUNNING</td><td>vCPUs go on;
 *       the stopped time is added</td></tr>
 *   <tr><td>PAUSING (answering)</td><td>RESUME</td><td>PAUSING</td><td>deferred until the answer
 *       returns, then RUNNING: nothing runs while the device may still take the answer</td></tr>
 *   <tr><td>PAUSING</td><td>PAUSE</td><td>PAUSING</td><td>answer again once the answer in
 *       flight returned (a deferred RESUME is dropped): the host waits for an answer to this
 *       PAUSE</td></tr>
 *   <tr><td>PAUSED</td><td>PAUSE</td><td>PAUSING</td><td>answer again (the vCPUs are still
 *       stopped)</td></tr>
 *   <tr><td>PAUSING, PAUSED</td><td>{@link #release} (the host is lost for good, or shut the
 *       session down), the run's end, {@link #maxPause()}</td><td>RUNNING</td><td>logged; the run
 *       decides what follows</td></tr>
 *   <tr><td>any</td><td>{@link #close()}</td><td>CLOSED</td><td>parked vCPUs go on; enter, exit
 *       and checkpoint do nothing from now on</td></tr>
 * </table>
 *
 * <p>Every wait is bounded: a paused vCPU and the gate's thread wait at most until the run's end
 * ({@link #setRunEnd}) or {@link #maxPause()} after the PAUSE, whichever comes first; the gate's
 * idle wait is {@value #IDLE_WAIT_MS} ms at a time; {@link #close()} joins the thread for at most
 * {@link #JOIN_BOUND}.
 *
 * <p><b>Note:</b> thread-safe. {@link #pause()} and {@link #resume()} only change state and wake
 * threads (safe on the config stream's gRPC thread).
 */
public final class VcpuGate implements ReportingAgent.Vcpu, AutoCloseable {
  /** The gate's states. */
  public enum State {
    /** vCPUs run. */
    RUNNING,
    /** PAUSE came: vCPUs are stopping, or stopped and the answer is on its way. */
    PAUSING,
    /** vCPUs are stopped and the answer was sent; waiting for RESUME. */
    PAUSED,
    /** The run is over: nothing is stopped any more. */
    CLOSED
  }

  /** Sends the Paused answer. */
  @FunctionalInterface
  public interface Answer {
    /**
     * Sends Paused with the pages that hold the guest's data and its lost writes. Called on the
     * gate's thread while no vCPU is in guest mode, after the monitor handed over what they
     * wrote, so it reads their arrays without locks.
     *
     * @return the owned pages the answer listed
     * @throws TransportException if the device did not take the answer
     */
    long send() throws TransportException;
  }

  /** The gate's thread's name. */
  public static final String THREAD_NAME = "vcpu-pause";

  /** The longest the host may keep the guest paused before the guest goes on by itself. */
  public static final Duration MAX_PAUSE = Duration.ofMinutes(10);

  /**
   * The longest {@link #close()} waits for the gate's thread (an answer in flight has its own
   * deadline, 2 s by default).
   */
  public static final Duration JOIN_BOUND = Duration.ofSeconds(5);

  /** The gate's thread re-checks for shutdown at least this often while nothing is asked. */
  static final long IDLE_WAIT_MS = 1000;

  private static final BooleanSupplier NEVER = () -> false;

  private static final Logger LOG = LoggerFactory.getLogger(VcpuGate.class);

  private final AtomicReference<State> state;
  private final Answer answer;
  private final Duration maxPause;
  private final Thread thread; // null for a disabled gate
  // Guarded by this.
  private final Set<Thread> inGuest = new HashSet<>();
  private boolean needsAnswer;
  private boolean answering;
  private boolean resumeDeferred;
  private long boundNanos;
  private boolean boundIsRunEnd;
  private long stoppedAtNanos;
  private boolean timed;
  private long runEndNanos;
  private long pausedCount;
  private long pausedNanos;
  private long lastOwnedPages;
  private volatile boolean overran; // read on every workload step

  /**
   * A gate whose answer is {@code answer}, with {@link #MAX_PAUSE}; not started.
   *
   * @param answer sends Paused
   * @throws IllegalArgumentException if the answer is null
   */
  public VcpuGate(Answer answer) {
    this(answer, MAX_PAUSE);
  }

  /**
   * A gate whose answer is {@code answer}; not started.
   *
   * @param answer sends Paused
   * @param maxPause the longest pause before the guest goes on by itself
   * @throws IllegalArgumentException if the answer is null or the bound not positive
   */
  public VcpuGate(Answer answer, Duration maxPause) {
    if (answer == null) {
      throw new IllegalArgumentException("answer must not be null");
    }
    if (maxPause == null || maxPause.isNegative() || maxPause.isZero()) {
      throw new IllegalArgumentException("maxPause must be positive, got " + maxPause);
    }
    this.answer = answer;
    this.maxPause = maxPause;
    this.state = new AtomicReference<>(State.RUNNING);
    this.thread = Thread.ofPlatform().name(THREAD_NAME).daemon().unstarted(this::runGate);
  }

  private VcpuGate() {
    this.answer = () -> 0;
    this.maxPause = MAX_PAUSE;
    this.state = new AtomicReference<>(State.CLOSED);
    this.thread = null;
  }

  /**
   * A gate that never stops anything (a driver outside a run): CLOSED from the start, PAUSE and
   * RESUME are ignored.
   *
   * @return the gate
   */
  public static VcpuGate disabled() {
    return new VcpuGate();
  }

  /**
   * Bounds every pause by the run's end: a paused guest goes on when it comes.
   *
   * @param deadlineNanos the run's end on {@link System#nanoTime()}'s clock
   */
  public synchronized void setRunEnd(long deadlineNanos) {
    timed = true;
    runEndNanos = deadlineNanos;
  }

  /**
   * Starts the gate's thread.
   *
   * @throws IllegalStateException if the gate is disabled, closed or already started
   */
  public void start() {
    if (thread == null || state.get() == State.CLOSED) {
      throw new IllegalStateException("VcpuGate.start: the gate is closed");
    }
    if (thread.getState() != Thread.State.NEW) {
      throw new IllegalStateException("VcpuGate.start: already started");
    }
    thread.start();
  }

  // ------------------------------------------------------------------ vCPUs

  /**
   * The calling thread enters guest mode; while the guest is paused it first waits (bounded).
   *
   * @throws IllegalStateException if the thread is in guest mode already
   */
  @Override
  public void enter() {
    enter(NEVER);
  }

  /**
   * As {@link #enter()}, but a wait while paused also ends when {@code wake} holds (checked when
   * the wait starts and after each {@link #nudge()}); the thread then stays out of guest mode.
   *
   * @param wake the supervisor's reason to act while paused (the host failed)
   * @return true in guest mode (or closed), false when woken out of it
   * @throws IllegalStateException if the thread is in guest mode already
   */
  public boolean enter(BooleanSupplier wake) {
    if (state.get() == State.CLOSED) {
      return true;
    }
    synchronized (this) {
      Thread t = Thread.currentThread();
      if (inGuest.contains(t)) {
        throw new IllegalStateException(
            "VcpuGate.enter: " + t.getName() + " is already in guest mode");
      }
      if (!awaitRunning(wake)) {
        return false;
      }
      if (state.get() != State.CLOSED) {
        inGuest.add(t);
      }
      return true;
    }
  }

  /**
   * The calling thread leaves guest mode (to wait, or to call the device).
   *
   * @throws IllegalStateException if the thread is not in guest mode
   */
  @Override
  public void exit() {
    if (state.get() == State.CLOSED) {
      return;
    }
    synchronized (this) {
      leave("exit");
    }
  }

  /**
   * A safe point: while the guest is pausing or paused the calling thread leaves guest mode,
   * waits (bounded) and enters again; otherwise one volatile read.
   *
   * @throws IllegalStateException if the guest is pausing and the thread is not in guest mode
   */
  public void checkpoint() {
    checkpoint(NEVER);
  }

  /**
   * As {@link #checkpoint()}, but a wait while paused also ends when {@code wake} holds (see
   * {@link #enter(BooleanSupplier)}); the thread then stays out of guest mode.
   *
   * @param wake the supervisor's reason to act while paused (the host failed)
   * @return true in guest mode (or closed), false when woken out of it
   * @throws IllegalStateException if the guest is pausing and the thread is not in guest mode
   */
  public boolean checkpoint(BooleanSupplier wake) {
    State s = state.get();
    if (s == State.RUNNING || s == State.CLOSED) {
      return true;
    }
    synchronized (this) {
      leave("checkpoint");
      if (!awaitRunning(wake)) {
        return false;
      }
      if (state.get() != State.CLOSED) {
        inGuest.add(Thread.currentThread());
      }
      return true;
    }
  }

  /** Wakes the waiting threads to re-check their wake conditions (the host failed). */
  public synchronized void nudge() {
    notifyAll();
  }

  private void leave(String what) {
    Thread t = Thread.currentThread();
    if (!inGuest.remove(t)) {
      throw new IllegalStateException(
          "VcpuGate." + what + ": " + t.getName() + " is not in guest mode");
    }
    notifyAll(); // the gate's thread may be waiting for the last vCPU
  }

  /**
   * Waits, monitor held, until RUNNING or CLOSED, or the pause's bound passes (true), or {@code
   * wake} holds while the guest is still paused (false).
   */
  private boolean awaitRunning(BooleanSupplier wake) {
    while (true) {
      State s = state.get();
      if (s == State.RUNNING || s == State.CLOSED) {
        return true;
      }
      if (wake.getAsBoolean()) {
        return false;
      }
      long left = boundNanos - System.nanoTime();
      if (left <= 0) {
        expire();
        return true;
      }
      try {
        // Locking: timedWait releases the monitor, so events and the gate's thread get it.
        TimeUnit.NANOSECONDS.timedWait(this, left);
      } catch (InterruptedException e) {
        // Only a bounded close interrupts a vCPU (the agent's scheduler): it goes on.
        Thread.currentThread().interrupt();
        LOG.warn("vcpu: {} interrupted while the guest is {}; it goes on",
            Thread.currentThread().getName(), s);
        return true;
      }
    }
  }

  // ------------------------------------------------------------------ events

  /** PAUSE from the host: see the table. Never blocks beyond the monitor. */
  public synchronized void pause() {
    State s = state.get();
    switch (s) {
      case RUNNING -> toPausing();
      case PAUSING, PAUSED -> {
        resumeDeferred = false;
        needsAnswer = true;
        notifyAll();
        LOG.info("vcpu: PAUSE while {}: the answer is sent again", s);
      }
      case CLOSED -> LOG.debug("vcpu: PAUSE ignored: no vCPUs to stop");
    }
  }

  /** RESUME from the host: see the table. Never blocks beyond the monitor. */
  public synchronized void resume() {
    State s = state.get();
    switch (s) {
      case PAUSING -> {
        if (answering) {
          resumeDeferred = true;
        } else {
          toRunning("RESUME before the vCPUs stopped (the host gave up waiting)");
        }
      }
      case PAUSED -> toRunning("RESUME");
      case RUNNING, CLOSED -> LOG.debug("vcpu: RESUME ignored while {}", s);
    }
  }

  /**
   * Lets a pausing or paused guest go on because no RESUME can come: the host was lost, or its
   * config stream broke. Does nothing otherwise.
   *
   * @param why for the log
   */
  public synchronized void release(String why) {
    State s = state.get();
    if (s == State.PAUSING || s == State.PAUSED) {
      LOG.warn("vcpu: the guest goes on while {}: {}", s, why);
      toRunning(why);
    }
  }

  private void toPausing() {
    long now = System.nanoTime();
    long bound = now + maxPause.toNanos();
    boundIsRunEnd = timed && runEndNanos - bound < 0;
    boundNanos = boundIsRunEnd ? runEndNanos : bound;
    needsAnswer = true;
    resumeDeferred = false;
    state.set(State.PAUSING);
    notifyAll();
    LOG.debug("vcpu: PAUSE: stopping {} vCPU(s) in guest mode", inGuest.size());
  }

  private void toRunning(String why) {
    if (stoppedAtNanos != 0) {
      pausedNanos += System.nanoTime() - stoppedAtNanos;
      stoppedAtNanos = 0;
    }
    needsAnswer = false;
    resumeDeferred = false;
    state.set(State.RUNNING);
    notifyAll();
    LOG.debug("vcpu: running again: {}", why);
  }

  /** The pause's bound passed (monitor held): the run's end, or the host kept it too long. */
  private void expire() {
    State s = state.get();
    if (s != State.PAUSING && s != State.PAUSED) {
      return;
    }
    if (boundIsRunEnd) {
      LOG.info("vcpu: the run's end came while {}; the guest goes on", s);
      toRunning("the run's end");
    } else {
      overran = true;
      LOG.warn("vcpu: the host kept the guest {} longer than {}; it goes on", s, maxPause);
      toRunning("paused longer than " + maxPause);
    }
  }

  // ------------------------------------------------------------------ the gate's thread

  private void runGate() {
    while (awaitStopped()) {
      answerOnce();
    }
  }

  /**
   * Waits until an answer is due and no vCPU is in guest mode; marks it answering.
   *
   * @return false once closed
   */
  private synchronized boolean awaitStopped() {
    while (true) {
      State s = state.get();
      if (s == State.CLOSED) {
        return false;
      }
      long wait = TimeUnit.MILLISECONDS.toNanos(IDLE_WAIT_MS);
      if ((s == State.PAUSING || s == State.PAUSED) && needsAnswer) {
        if (inGuest.isEmpty()) {
          needsAnswer = false;
          answering = true;
          state.set(State.PAUSING);
          notifyAll();
          if (stoppedAtNanos == 0) {
            stoppedAtNanos = System.nanoTime();
          }
          return true;
        }
        wait = boundNanos - System.nanoTime();
        if (wait <= 0) {
          expire();
          continue;
        }
      }
      try {
        TimeUnit.NANOSECONDS.timedWait(this, wait);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false; // nobody interrupts this thread; end quietly if someone does
      }
    }
  }

  /** Sends the answer without the monitor (a device call), then applies what came meanwhile. */
  private void answerOnce() {
    long owned = 0;
    Exception failure = null;
    // Locking: the answer is a device call, made without the monitor so that RESUME, PAUSE and
    // release can still come in; vCPUs stay parked because the state is PAUSING.
    try {
      owned = answer.send();
    } catch (TransportException | RuntimeException e) {
      failure = e;
    }
    synchronized (this) {
      answering = false;
      if (failure == null) {
        pausedCount++;
        lastOwnedPages = owned;
      }
      if (state.get() != State.PAUSING) {
        return; // released or closed during the call
      }
      if (failure != null) {
        LOG.warn("vcpu: the Paused answer failed ({}); the vCPUs stay stopped until RESUME or"
            + " host loss", failure.getMessage());
      }
      if (resumeDeferred) {
        toRunning("RESUME during the answer");
        return;
      }
      state.set(State.PAUSED);
      notifyAll();
    }
  }

  /**
   * Closes the gate: parked vCPUs go on, the thread ends (joined for at most {@link
   * #JOIN_BOUND}). Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (state.get() == State.CLOSED) {
        return;
      }
      if (stoppedAtNanos != 0) {
        pausedNanos += System.nanoTime() - stoppedAtNanos;
        stoppedAtNanos = 0;
      }
      state.set(State.CLOSED);
      inGuest.clear();
      notifyAll();
    }
    if (thread.getState() == Thread.State.NEW || thread == Thread.currentThread()) {
      return;
    }
    try {
      thread.join(JOIN_BOUND);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      LOG.warn("vcpu: {} still running {} after close", THREAD_NAME, JOIN_BOUND);
    }
  }

  // ------------------------------------------------------------------ counters

  /**
   * The state.
   *
   * @return the state now
   */
  public State state() {
    return state.get();
  }

  /**
   * The longest a pause may last before the guest goes on by itself.
   *
   * @return the bound
   */
  public Duration maxPause() {
    return maxPause;
  }

  /**
   * Pauses the device took the answer to.
   *
   * @return the count
   */
  public synchronized long pausedCount() {
    return pausedCount;
  }

  /**
   * Time the vCPUs were stopped, from the moment the last one left guest mode to the moment
   * they went on, over every pause (one still going counts up to now).
   *
   * @return milliseconds
   */
  public synchronized long pausedMillis() {
    long n = pausedNanos;
    if (stoppedAtNanos != 0) {
      n += System.nanoTime() - stoppedAtNanos;
    }
    return TimeUnit.NANOSECONDS.toMillis(n);
  }

  /**
   * The owned pages of the last answer the device took.
   *
   * @return pages, 0 before the first
   */
  public synchronized long lastOwnedPages() {
    return lastOwnedPages;
  }

  /**
   * Whether a pause outlasted {@link #maxPause()} and the guest went on by itself.
   *
   * @return true once it happened
   */
  public boolean overran() {
    return overran;
  }

  /**
   * Threads in guest mode now (tests, logs).
   *
   * @return the count
   */
  public synchronized int vcpusInGuest() {
    return inGuest.size();
  }

  /**
   * Waits until the state is {@code s} (tests).
   *
   * @return false if the bound passed first
   */
  synchronized boolean awaitState(State s, Duration bound) throws InterruptedException {
    long end = System.nanoTime() + bound.toNanos();
    while (state.get() != s) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return true;
  }

  /**
   * Waits until at most {@code n} threads are in guest mode (tests: the others have parked).
   *
   * @return false if the bound passed first
   */
  synchronized boolean awaitVcpusInGuest(int n, Duration bound) throws InterruptedException {
    long end = System.nanoTime() + bound.toNanos();
    while (inGuest.size() > n) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return true;
  }
}
