package io.hintlab.guest.reporting;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reporting thread: one {@link ReportingStrategy} driven by the state machine of
 * mm/page_reporting.c ({@code prdev->state}), with the delay between a request and its pass. Every
 * strategy runs in this one shape.
 *
 * <p>The state is one atomic field, changed only by {@link #request()} (any thread) and by the pass
 * ({@code process}, the reporting thread):
 *
 * <table>
 *   <caption>State transitions</caption>
 *   <tr><th>state</th><th>event</th><th>new state</th><th>action</th></tr>
 *   <tr><td>IDLE</td><td>request()</td><td>REQUESTED</td><td>schedule a pass after the
 *       delay</td></tr>
 *   <tr><td>REQUESTED</td><td>request()</td><td>REQUESTED</td><td>none (a pass is
 *       pending)</td></tr>
 *   <tr><td>ACTIVE</td><td>request(), or the strategy's budget is spent</td><td>REQUESTED</td>
 *       <td>none (the running pass reruns)</td></tr>
 *   <tr><td>REQUESTED</td><td>the pass starts</td><td>ACTIVE</td><td>run the strategy
 *       once</td></tr>
 *   <tr><td>ACTIVE</td><td>the pass ends</td><td>IDLE</td><td>none</td></tr>
 *   <tr><td>REQUESTED</td><td>the pass ends</td><td>REQUESTED</td><td>schedule a pass after the
 *       delay</td></tr>
 * </table>
 *
 * <p>Assumptions and guarantees:
 *
 * <ul>
 *   <li>A request reads the state first and returns if it is REQUESTED; otherwise {@code
 *       getAndSet(REQUESTED)}, and only the request that found IDLE schedules the pass. So at most
 *       one pass is pending or running, and any number of requests made while one is pending or
 *       running cost one rerun.
 *   <li>The pass sets ACTIVE unconditionally on entry, runs, then {@code compareAndSet(ACTIVE,
 *       IDLE)}; if that fails a request came in during the pass and the pass schedules itself again
 *       after the delay. A request is never lost: it either found IDLE and scheduled, or found
 *       REQUESTED/ACTIVE and will be seen by the end of a pass that has not yet checked.
 *   <li>Passes run one at a time on the scheduler's thread, at most one per delay after the
 *       previous pass ended (as with {@code schedule_delayed_work()}).
 *   <li>A pass that throws is counted in {@link ReportingMetrics#passErrors()}, logged and kept as
 *       {@link #lastFailure()}; the state machine goes on as if the pass had ended (an {@link
 *       Error} is rethrown after that, so the agent is never left ACTIVE).
 *   <li>After {@link #close()} no pass starts and requests do nothing.
 *   <li>With a {@link Vcpu} ({@link #setVcpu}), a pass runs in guest mode and each report call
 *       outside it, so a paused guest stops its reporting thread between passes and between
 *       batches, never with a zone lock held (strategies call the sink without it).
 * </ul>
 *
 * <p><b>Note:</b> thread-safe. {@link #request()} may be called under a zone lock.
 */
public final class ReportingAgent implements AutoCloseable {
  /** {@code PAGE_REPORTING_IDLE / _REQUESTED / _ACTIVE} (mm/page_reporting.c). */
  public enum State {
    /** No pass pending or running. */
    IDLE,
    /** A pass is pending, or the running pass must run again. */
    REQUESTED,
    /** A pass is running and no request came in since it started. */
    ACTIVE
  }

  /**
   * The vCPU the reporting thread runs on, for a guest the host can pause (live migration; {@code
   * io.hintlab.guest.driver.VcpuGate}). A pass runs in guest mode, between {@link #enter()} and
   * {@link #exit()}; each report call runs outside it, as a vCPU waiting for the device in a VM
   * exit can be stopped there.
   */
  public interface Vcpu {
    /** A vCPU that is never paused. */
    Vcpu NONE = new Vcpu() {
      @Override
      public void enter() {}

      @Override
      public void exit() {}
    };

    /** Enters guest mode; waits (bounded) while the guest is paused. */
    void enter();

    /** Leaves guest mode. */
    void exit();
  }

  private static final Logger LOG = LoggerFactory.getLogger(ReportingAgent.class);

  private final AtomicReference<State> state = new AtomicReference<>(State.IDLE);
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final ReportingStrategy strategy;
  private final ReportSink sink;
  private final Duration delay;
  private final WorkScheduler scheduler;
  private final ReportingMetrics metrics = new ReportingMetrics();
  private final Runnable work = this::process;
  private final ReportingContext context = new Context();
  private final ReportSink vcpuSink = this::reportOutsideGuest;
  private volatile Vcpu vcpu = Vcpu.NONE;
  private volatile Throwable lastFailure;

  /**
   * Creates an agent that runs its passes on {@code scheduler}; it owns the scheduler and closes it
   * in {@link #close()}.
   *
   * @param strategy the strategy, not yet started
   * @param sink the driver's report callback
   * @param delay the delay between a request and its pass ({@link
   *     ReportingOptions#PAGE_REPORTING_DELAY})
   * @param scheduler where the passes run
   * @throws IllegalArgumentException if an argument is null or the delay negative
   */
  public ReportingAgent(
      ReportingStrategy strategy, ReportSink sink, Duration delay, WorkScheduler scheduler) {
    if (strategy == null || sink == null || scheduler == null) {
      throw new IllegalArgumentException("strategy, sink and scheduler must not be null");
    }
    if (delay == null || delay.isNegative()) {
      throw new IllegalArgumentException("delay must be >= 0, got " + delay);
    }
    this.strategy = strategy;
    this.sink = sink;
    this.delay = delay;
    this.scheduler = scheduler;
  }

  /**
   * An agent on its own daemon thread named after the strategy, with the options' delay and {@link
   * ExecutorWorkScheduler#DEFAULT_CLOSE_TIMEOUT}.
   *
   * @param strategy the strategy, not yet started
   * @param sink the driver's report callback
   * @param options the options (their delay is used)
   * @return the agent, not yet started
   */
  public static ReportingAgent onThread(
      ReportingStrategy strategy, ReportSink sink, ReportingOptions options) {
    return new ReportingAgent(
        strategy,
        sink,
        options.delay(),
        new ExecutorWorkScheduler(strategy.name(), ExecutorWorkScheduler.DEFAULT_CLOSE_TIMEOUT));
  }

  /** The role name: the strategy's name. */
  public String roleName() {
    return strategy.name();
  }

  /** The current state. */
  public State state() {
    return state.get();
  }

  /** The counters of this agent and its strategy. */
  public ReportingMetrics metrics() {
    return metrics;
  }

  /** The delay between a request and its pass. */
  public Duration delay() {
    return delay;
  }

  /** The last exception that ended a pass, if any. */
  public Optional<Throwable> lastFailure() {
    return Optional.ofNullable(lastFailure);
  }

  /**
   * Sets the vCPU the passes run on. Only before {@link #start()}.
   *
   * @param v the vCPU
   * @throws IllegalArgumentException if v is null
   * @throws IllegalStateException if the agent was started
   */
  public void setVcpu(Vcpu v) {
    if (v == null) {
      throw new IllegalArgumentException("vcpu must not be null");
    }
    if (started.get()) {
      throw new IllegalStateException("setVcpu: reporting agent " + roleName()
          + " already started");
    }
    vcpu = v;
  }

  /**
   * page_reporting_register(): installs the strategy's hooks and requests the first pass, which
   * runs one delay later.
   *
   * @throws IllegalStateException if already started or closed
   */
  public void start() {
    if (closed.get()) {
      throw new IllegalStateException("reporting agent " + roleName() + " is closed");
    }
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("reporting agent " + roleName() + " already started");
    }
    strategy.onStart(context);
    request();
  }

  /**
   * __page_reporting_request(): asks for a pass after the delay (see the class table). Cheap and
   * lock-free; safe under a zone lock. Does nothing once closed.
   */
  public void request() {
    // Check to see if we are in the desired state already
    if (state.get() == State.REQUESTED) {
      return;
    }
    // Only the request that takes the agent out of IDLE schedules the pass
    if (state.getAndSet(State.REQUESTED) != State.IDLE) {
      return;
    }
    scheduleWork();
  }

  private void scheduleWork() {
    if (closed.get()) {
      return;
    }
    if (scheduler.schedule(work, delay)) {
      metrics.scheduledOnce();
    }
  }

  /**
   * page_reporting_process() on a vCPU: the pass waits here while the guest is paused, and the
   * vCPU leaves guest mode when the pass ends.
   */
  private void process() {
    if (closed.get()) {
      return;
    }
    Vcpu v = vcpu;
    v.enter();
    try {
      runPass();
    } finally {
      v.exit();
    }
  }

  /** One pass, then back to IDLE or a rerun after the delay. */
  private void runPass() {
    if (closed.get()) {
      return; // closed while the guest was paused
    }
    // ACTIVE lets us see whether anyone requests reporting while the pass runs
    state.set(State.ACTIVE);
    try {
      int pages = strategy.doWork(context);
      LOG.debug("{}: pass reported {} pages", roleName(), pages);
    } catch (RuntimeException e) {
      passFailed(e);
    } catch (Error e) {
      passFailed(e);
      throw e;
    } finally {
      metrics.pass();
      // REQUESTED again: more pages may be waiting; defer to let them accumulate
      if (!state.compareAndSet(State.ACTIVE, State.IDLE)) {
        scheduleWork();
      }
    }
  }

  /**
   * The driver's report callback as a vCPU makes it: outside guest mode while the device holds
   * the batch (virtqueue_kick() and the wait for the used buffer are a VM exit), where a pause
   * can stop the thread; guest mode again before the strategy goes on.
   */
  private void reportOutsideGuest(long[] pfns, int[] orders, int n) throws ReportException {
    Vcpu v = vcpu;
    v.exit();
    try {
      sink.report(pfns, orders, n);
    } finally {
      v.enter();
    }
  }

  private void passFailed(Throwable t) {
    metrics.passError();
    lastFailure = t;
    LOG.error("{}: pass failed", roleName(), t);
  }

  /**
   * page_reporting_unregister(): removes the strategy's hooks, drops a pending pass, waits a
   * bounded time for a running one (then interrupts it, which fails its report call so that its
   * pages go back unreported). Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (started.get()) {
      strategy.onClose();
    }
    scheduler.close();
  }

  /** The view of this agent a strategy gets. */
  private final class Context implements ReportingContext {
    @Override
    public void request() {
      ReportingAgent.this.request();
    }

    @Override
    public ReportSink sink() {
      return vcpuSink;
    }

    @Override
    public ReportingMetrics metrics() {
      return metrics;
    }
  }
}
