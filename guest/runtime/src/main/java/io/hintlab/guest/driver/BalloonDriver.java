package io.hintlab.guest.driver;

import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_FREE_PAGE_HINT;
import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_STATS_VQ;

import io.hintlab.guest.mm.BalloonDevInfo;
import io.hintlab.guest.mm.OomNotifier;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.reporting.HintCommandTarget;
import io.hintlab.guest.transport.ConfigListener;
import io.hintlab.guest.transport.ConfigUpdate;
import io.hintlab.guest.transport.ConfigWatch;
import io.hintlab.guest.transport.DeviceClient;
import io.hintlab.guest.transport.DeviceSession;
import io.hintlab.guest.transport.NegotiatedFeatures;
import io.hintlab.guest.transport.TransportException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guest's virtio-balloon driver (drivers/virtio/virtio_balloon.c) over one attached {@link
 * DeviceClient} and the allocator model: it follows the balloon target the host writes to the
 * config space, moves balloon pages when compaction migrates them, deflates on OOM, sends memory
 * statistics and hands free page hint command ids to the hinting strategy. Free page reporting is
 * not here: the reporting agent reports through the client directly.
 *
 * <p><b>Threads.</b> The config listener runs on a gRPC thread and only queues work ({@code
 * virtballoon_changed()}); the work runs on the driver's thread {@value #THREAD_NAME}: the size
 * work {@code update_balloon_size_func()} ({@code towards_target()}, one {@code fill_balloon()} or
 * {@code leak_balloon()} of at most 256 pfns, {@code update_balloon_size()}, queued again while
 * not at the target; after "Out of puff!" or a failed device call, {@value #OUT_OF_PUFF_MS} ms
 * later) and the command id work ({@code report_free_page_func()}). Statistics go out on {@value
 * StatsTimer#THREAD_NAME}. Deflate-on-OOM runs on the allocating thread, balloon migration on the
 * migrating thread. Both threads are stopped and joined, bounded, by {@link #stop()}.
 *
 * <p><b>State.</b> One atomic field, changed only by {@link #start()}, {@link #stop()} and the
 * host's SHUTDOWN event ({@code quiesce}):
 *
 * <table>
 *   <caption>State transitions</caption>
 *   <tr><th>state</th><th>event</th><th>new state</th><th>action</th></tr>
 *   <tr><td>STOPPED</td><td>start()</td><td>RUNNING</td><td>register the OOM notifier
 *       (DEFLATE_ON_OOM), start the threads, open the config watch (its first event queues the
 *       size work, as {@code virtballoon_probe()} does when not at the target)</td></tr>
 *   <tr><td>STOPPED</td><td>stop()</td><td>REMOVED</td><td>none: the balloon is empty</td></tr>
 *   <tr><td>RUNNING</td><td>SHUTDOWN from the host</td><td>QUIESCED</td><td>{@code
 *       stop_update}: queued work is dropped, no new work and no stats; the balloon stays until
 *       removal</td></tr>
 *   <tr><td>RUNNING, QUIESCED</td><td>stop()</td><td>REMOVING</td><td>{@code
 *       virtballoon_remove()}: unregister the OOM notifier, close the watch, stop and join the
 *       threads, {@code remove_common()}: deflate the whole balloon</td></tr>
 *   <tr><td>REMOVING</td><td>the balloon is empty</td><td>REMOVED</td><td>none</td></tr>
 *   <tr><td>REMOVING, REMOVED</td><td>stop()</td><td>unchanged</td><td>wait, bounded, for
 *       REMOVED</td></tr>
 * </table>
 *
 * <p><b>Pause.</b> PAUSE and RESUME events (live migration) go to the {@link VcpuGate} ({@link
 * #setVcpuGate}; without one they are ignored): the driver's thread runs each work item in guest
 * mode and the stats timer each send, so both stop between items while the guest is paused. A
 * SHUTDOWN releases a paused guest: no RESUME comes after it.
 *
 * <p><b>Note:</b> thread-safe.
 */
public final class BalloonDriver implements AutoCloseable {
  /** The driver's state. */
  public enum State {
    /** Created, not started. */
    STOPPED,
    /** Following the device. */
    RUNNING,
    /** The host shut the session down: no more work until removal. */
    QUIESCED,
    /** {@link #stop()} is deflating the balloon. */
    REMOVING,
    /** Stopped for good; the balloon is empty. */
    REMOVED
  }

  /** The driver's thread's name. */
  public static final String THREAD_NAME = "virtio-balloon";

  /** {@code msleep(200)} after "Out of puff!", in milliseconds. */
  public static final long OUT_OF_PUFF_MS = 200;

  /** The longest {@link #stop()} spends telling the host of deflates before it stops telling. */
  static final Duration REMOVE_TELL_BUDGET = Duration.ofSeconds(10);

  /** The longest {@link #stop()} waits for a page isolated by a migration in flight. */
  static final Duration ISOLATED_WAIT = Duration.ofSeconds(1);

  private static final Duration OUT_OF_PUFF_DELAY = Duration.ofMillis(OUT_OF_PUFF_MS);
  private static final Logger LOG = LoggerFactory.getLogger(BalloonDriver.class);

  private final AtomicReference<State> state = new AtomicReference<>(State.STOPPED);
  private final PageAllocator allocator;
  private final DeviceClient client;
  private final NegotiatedFeatures features;
  private final int cpu;
  private final DriverCounters counters = new DriverCounters();
  private final Balloon balloon;
  private final OomNotifier oomNotifier;
  private final WorkQueue work = new WorkQueue();
  private final Thread worker;
  private final StatsTimer stats; // null without STATS_VQ or interval
  private final CountDownLatch removed = new CountDownLatch(1);
  private final Duration callBound;
  private volatile HintCommandTarget hintTarget;
  private volatile VcpuGate gate = VcpuGate.disabled();
  private volatile Runnable workDone = () -> {};
  private ConfigWatch watch; // guarded by this
  private boolean cmdIdSent; // the driver's thread only
  private int lastCmdId; // the driver's thread only

  /**
   * A driver for the client's session over {@code allocator}; it registers its balloon page list
   * with the allocator.
   *
   * @param allocator the guest's allocator
   * @param client an attached client; the driver uses its session's features
   * @param options the driver's cpu, stats interval and deflated-page init
   * @throws IllegalStateException if the client has no session
   * @throws IllegalArgumentException if the cpu is not one of the allocator's
   */
  public BalloonDriver(PageAllocator allocator, DeviceClient client, DriverOptions options) {
    DeviceSession session = client.session().orElseThrow(
        () -> new IllegalStateException("the balloon driver needs an attached session"));
    int c = options.cpu() == DriverOptions.CPU_LAST ? allocator.nrCpus() - 1 : options.cpu();
    if (c >= allocator.nrCpus()) {
      throw new IllegalArgumentException(
          "cpu must be in [0, " + allocator.nrCpus() + "), got " + c);
    }
    this.allocator = allocator;
    this.client = client;
    this.features = session.features();
    this.cpu = c;
    this.balloon = new Balloon(allocator, client, counters, options.releasedPageInit());
    this.oomNotifier = balloon::oomNotify;
    this.worker = Thread.ofPlatform().name(THREAD_NAME).daemon().unstarted(this::runWork);
    this.stats = features.has(VIRTIO_BALLOON_F_STATS_VQ) && !options.statsInterval().isZero()
        ? new StatsTimer(allocator, client, options.statsInterval(), counters,
            () -> state.get() == State.RUNNING)
        : null;
    // A work item makes at most two device calls; everything else it does is short.
    this.callBound = client.deadlines().unary().multipliedBy(2).plusSeconds(1);
  }

  /**
   * Sets the strategy that receives free page hint command ids. Only before {@link #start()}.
   *
   * @param target the hinting strategy
   * @throws IllegalArgumentException if the target is null
   * @throws IllegalStateException if the driver was started
   */
  public void setHintTarget(HintCommandTarget target) {
    if (target == null) {
      throw new IllegalArgumentException("hint target must not be null");
    }
    if (state.get() != State.STOPPED) {
      throw new IllegalStateException("setHintTarget: the driver is " + state.get()
          + "; set the target before start");
    }
    hintTarget = target;
  }

  /**
   * Sets the gate that PAUSE and RESUME drive and that the driver's thread and stats timer run
   * under. Only before {@link #start()}; close the gate before {@link #stop()}, so that a paused
   * driver thread can end.
   *
   * @param g the run's gate
   * @throws IllegalArgumentException if the gate is null
   * @throws IllegalStateException if the driver was started
   */
  public void setVcpuGate(VcpuGate g) {
    if (g == null) {
      throw new IllegalArgumentException("vcpu gate must not be null");
    }
    if (state.get() != State.STOPPED) {
      throw new IllegalStateException("setVcpuGate: the driver is " + state.get()
          + "; set the gate before start");
    }
    gate = g;
    if (stats != null) {
      stats.setGate(g);
    }
  }

  /**
   * Starts following the device: see the STOPPED row of the class table.
   *
   * @throws TransportException if the config watch could not be opened (the driver is then
   *     REMOVED)
   * @throws IllegalStateException if the driver is not STOPPED
   */
  public void start() throws TransportException {
    if (!state.compareAndSet(State.STOPPED, State.RUNNING)) {
      throw new IllegalStateException("start: the driver is " + state.get() + ", not STOPPED");
    }
    if (features.has(VIRTIO_BALLOON_F_DEFLATE_ON_OOM)) {
      allocator.registerOomNotifier(oomNotifier);
    }
    // Without DEFLATE_ON_OOM Linux takes each balloon page out of the managed pages
    // (adjust_managed_page_count()); the model has no managed-page adjustment, so it does not.
    worker.start();
    if (stats != null) {
      stats.start();
    }
    try {
      openWatch();
    } catch (TransportException e) {
      stop();
      throw e;
    }
    LOG.info("virtio_balloon: started on cpu {} ({})", cpu, features);
  }

  /**
   * Opens the config watch again, after the session was resumed (the old stream broke with the
   * host). Its first event queues the work, so a target the host set meanwhile is followed.
   *
   * @throws TransportException if the watch could not be opened
   * @throws IllegalStateException if the driver is not RUNNING or QUIESCED
   */
  public void rewatch() throws TransportException {
    State s = state.get();
    if (s != State.RUNNING && s != State.QUIESCED) {
      throw new IllegalStateException("rewatch: the driver is " + s);
    }
    openWatch();
  }

  private void openWatch() throws TransportException {
    ConfigWatch w = client.watchConfig(new Listener());
    synchronized (this) {
      watch = w;
    }
  }

  /**
   * Removes the driver: see the table. Bounded: each thread is joined for at most two device
   * deadlines, and the deflate stops telling the host after its first failure or {@link
   * #REMOVE_TELL_BUDGET}; the pages go back to the guest either way. Idempotent.
   *
   * @throws IllegalStateException if called on the driver's own thread
   */
  public void stop() {
    if (Thread.currentThread() == worker) {
      throw new IllegalStateException("stop must not be called on the driver's thread");
    }
    while (true) {
      State s = state.get();
      switch (s) {
        case STOPPED -> {
          if (state.compareAndSet(s, State.REMOVED)) {
            removed.countDown();
            return;
          }
        }
        case RUNNING, QUIESCED -> {
          if (state.compareAndSet(s, State.REMOVING)) {
            remove();
            return;
          }
        }
        case REMOVING, REMOVED -> {
          awaitRemoved();
          return;
        }
      }
    }
  }

  /** Same as {@link #stop()}. */
  @Override
  public void close() {
    stop();
  }

  /** virtballoon_remove(), then remove_common(). */
  private void remove() {
    try {
      if (features.has(VIRTIO_BALLOON_F_DEFLATE_ON_OOM)) {
        allocator.unregisterOomNotifier(oomNotifier);
      }
      synchronized (this) {
        if (watch != null) {
          watch.close();
        }
      }
      work.stop(); // stop_update, cancel_work_sync()
      join(worker, callBound);
      if (stats != null) {
        stats.stop(callBound);
      }
      int left = balloon.removeAll(cpu, callBound, REMOVE_TELL_BUDGET, ISOLATED_WAIT);
      LOG.info("virtio_balloon: removed; {} pages left in the balloon; {}", left, metrics());
    } finally {
      state.set(State.REMOVED);
      removed.countDown();
    }
  }

  private void awaitRemoved() {
    Duration bound = callBound.multipliedBy(3).plus(REMOVE_TELL_BUDGET).plus(ISOLATED_WAIT);
    try {
      if (!removed.await(bound.toNanos(), TimeUnit.NANOSECONDS)) {
        LOG.warn("virtio_balloon: another stop still removing after {}", bound);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void join(Thread t, Duration bound) {
    if (t.getState() == Thread.State.NEW) {
      return;
    }
    try {
      t.join(bound);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (t.isAlive()) {
      LOG.warn("virtio_balloon: {} still running {} after stop", t.getName(), bound);
    }
  }

  /**
   * The state.
   *
   * @return the state now
   */
  public State state() {
    return state.get();
  }

  /**
   * The counters.
   *
   * @return a snapshot
   */
  public DriverMetrics metrics() {
    return counters.snapshot(balloon.numPages());
  }

  /**
   * The actual the driver last wrote ({@code update_balloon_size()}).
   *
   * @return balloon pages of 4 KiB
   */
  public int actual() {
    return balloon.actual();
  }

  /** The model's balloon page list (tests). */
  BalloonDevInfo balloonDevInfo() {
    return balloon.info();
  }

  /** Runs {@code r} on the driver's thread after each work item (tests wait on it). */
  void onWorkDone(Runnable r) {
    workDone = r;
  }

  // ---------------------------------------------------------------- the driver's thread

  private void runWork() {
    while (true) {
      WorkQueue.Item item;
      try {
        item = work.next();
      } catch (InterruptedException e) {
        return; // nobody interrupts this thread; end quietly if someone does
      }
      if (item == null) {
        return;
      }
      VcpuGate g = gate;
      // process_one_work() on a vCPU: a paused guest stops here, between work items
      g.enter();
      try {
        runItem(item);
      } finally {
        g.exit();
        workDone.run();
      }
    }
  }

  private void runItem(WorkQueue.Item item) {
    try {
      if (item == WorkQueue.Item.CMD_ID) {
        reportFreePageFunc();
      } else {
        updateBalloonSizeFunc();
      }
    } catch (RuntimeException e) {
      counters.failures.increment();
      LOG.warn("virtio_balloon: {} work failed", item, e);
    }
  }

  /** update_balloon_size_func(). */
  private void updateBalloonSizeFunc() {
    if (state.get() != State.RUNNING) {
      return;
    }
    long diff = balloon.towardsTarget(work.config().numPages());
    if (diff == 0) {
      return;
    }
    Balloon.Step s = diff > 0 ? balloon.fill(cpu, diff) : balloon.leak(cpu, -diff);
    diff += diff > 0 ? -s.pages() : s.pages();
    balloon.updateBalloonSize();
    if (diff != 0) {
      // No progress, no allocation, or no device: wait before the next try (no busy loop).
      boolean wait = s.outOfPuff() || s.deviceFailed() || s.pages() == 0;
      work.requeueSize(wait ? OUT_OF_PUFF_DELAY : Duration.ZERO);
    }
  }

  /** report_free_page_func(): the latest command id, once per change, to the hint target. */
  private void reportFreePageFunc() {
    HintCommandTarget t = hintTarget;
    int id = work.config().freePageHintCmdId();
    if (t == null || (cmdIdSent && id == lastCmdId)) {
      return;
    }
    cmdIdSent = true;
    lastCmdId = id;
    t.onCommandId(id);
  }

  // ---------------------------------------------------------------- config events

  /** The SHUTDOWN row of the table: stop_update. */
  private void quiesce() {
    if (state.compareAndSet(State.RUNNING, State.QUIESCED)) {
      work.cancel();
      LOG.info("virtio_balloon: the host shut the session down; {} balloon pages kept until"
          + " removal", balloon.numPages());
    }
  }

  /** virtballoon_changed(): queue the work; never block the gRPC thread. */
  private void virtballoonChanged(ConfigUpdate u) {
    if (state.get() != State.RUNNING) {
      return; // stop_update
    }
    boolean cmdIdWork = features.has(VIRTIO_BALLOON_F_FREE_PAGE_HINT) && hintTarget != null;
    work.configChanged(u.config(), cmdIdWork);
  }

  /** The config stream's events, on a gRPC thread. */
  private final class Listener implements ConfigListener {
    @Override
    public void onUpdate(ConfigUpdate u) {
      switch (u.kind()) {
        case CONFIG_CHANGED -> virtballoonChanged(u);
        case PAUSE -> gate.pause();
        case RESUME -> gate.resume();
        case SHUTDOWN -> {
          quiesce();
          gate.release("the host shut the session down");
        }
      }
    }

    @Override
    public void onCompleted() {
      LOG.debug("virtio_balloon: the host ended the config stream");
    }

    @Override
    public void onFailed(TransportException failure) {
      // A paused guest stays paused: the run's heartbeat tells a dead host from a broken stream.
      LOG.info("virtio_balloon: config stream broke: {}", failure.getMessage());
    }
  }
}
