package io.hintlab.guest.run;

import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_FREE_PAGE_HINT;
import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_PAGE_POISON;
import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_PAGE_REPORTING;
import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_STATS_VQ;

import io.hintlab.guest.driver.BalloonDriver;
import io.hintlab.guest.driver.DeviceHintSink;
import io.hintlab.guest.driver.DriverMetrics;
import io.hintlab.guest.driver.DriverOptions;
import io.hintlab.guest.driver.FreePageVq;
import io.hintlab.guest.driver.VcpuGate;
import io.hintlab.guest.mm.Geometry;
import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.PageCopier;
import io.hintlab.guest.mm.PageInitializer;
import io.hintlab.guest.ram.GuestRam;
import io.hintlab.guest.reporting.FreeListWalkStrategy;
import io.hintlab.guest.reporting.HintCommandTarget;
import io.hintlab.guest.reporting.ReportingAgent;
import io.hintlab.guest.reporting.ReportingMetrics;
import io.hintlab.guest.reporting.ReportingOptions;
import io.hintlab.guest.reporting.ReportingStrategies;
import io.hintlab.guest.reporting.ReportingStrategy;
import io.hintlab.guest.transport.AttachSpec;
import io.hintlab.guest.transport.Connector;
import io.hintlab.guest.transport.DeviceClient;
import io.hintlab.guest.transport.DeviceSession;
import io.hintlab.guest.transport.DriverWishes;
import io.hintlab.guest.transport.GuestAddress;
import io.hintlab.guest.transport.GuestChannel;
import io.hintlab.guest.transport.TransportException;
import io.hintlab.guest.transport.VirtioBalloon;
import io.hintlab.guest.workload.PageWriter;
import io.hintlab.guest.workload.ResidentSet;
import io.hintlab.guest.workload.Workload;
import io.hintlab.guest.workload.Workloads;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code hintlab guest run}: the guest attached to a host, reporting (or hinting) its free memory
 * and following the host's balloon while a workload runs in RAM the host provides.
 *
 * <p>In order: connect with the {@link Connector} and its reconnect policy; attach with the
 * model's page size and the RAM size of the model's pfn range, negotiating as the Linux driver
 * does: PAGE_REPORTING for a strategy that reports, FREE_PAGE_HINT instead for one driven by
 * command ids ({@link HintCommandTarget}: hint-alloc-hold, and free-list-walk with {@link
 * RunOptions#hintQueue()}), each required, STATS_VQ ({@link
 * RunOptions#statsInterval()}) and DEFLATE_ON_OOM ({@link RunOptions#deflateOnOom()}) when the
 * device offers them, PAGE_POISON with {@link RunOptions#poison()}; map the session's RAM; build
 * the allocator; put the workload's pages in that RAM through {@link RamPages} (also the
 * allocator's page copier, so migrated pages are re-stamped at their new pfn), with {@link
 * RunOptions#initOnAlloc()} zeroing every allocated block there; start the heartbeat
 * and the reporting agent, whose sink is the {@link DeviceClient} (a hinting strategy gets the
 * free page queue, a {@link FreePageVq} in front of a {@link DeviceHintSink}, and the driver's
 * command ids), then the {@link BalloonDriver}; fill the {@link ResidentSet} ({@link
 * RunOptions#residentBytes()}); run rounds of the workload; stop the agent, then the driver (which
 * deflates the balloon), both bounded; free and verify whatever the workload still holds and the
 * resident set, run the {@link InvariantChecker}, detach.
 *
 * <p><b>Resident set.</b> What the guest's kernel and page cache keep in use for the whole run
 * is allocated and written once, in guest mode on this method's thread before the first round
 * (a pause can stop the fill at its step hook, as it stops the workload), and held through every
 * round and idle stretch: its pages are owned pages in each Paused answer. It is verified and
 * freed at the end, after the workload's pages. Memory too small for it is not an error: the
 * fill stops when allocations keep failing, logs how much it got, and {@link
 * RunSummary#residentPages()} says so.
 *
 * <p><b>Rounds.</b> A round runs the workload once ({@link RunOptions#ops()}), then frees and
 * verifies everything it holds, then stays idle for {@link RunOptions#idle()} in real time,
 * ticking the vmstat worker and kswapd once a second as an idle kernel does (so the {@code idle}
 * workload allocates its working set, touches it, frees it and stays idle, and reporting's delay
 * is real time). With a duration, rounds repeat until it is spent; its end cuts a round short
 * (after the allocator call in progress) or an idle stretch. With {@link RunOptions#stepRate()}
 * the workload's steps are paced in real time ({@link StepPacer}): a thread ahead of its schedule
 * halts out of guest mode, as an idle vCPU does.
 *
 * <p><b>Host loss.</b> A failed heartbeat is handed to the control thread (the one running this
 * method), which checks between allocator calls and during idle stretches and asks the {@link
 * Connector} to reconnect: a resumed session goes on with nothing lost (report batches that
 * failed meanwhile put their pages back unreported) once the driver has reopened its config
 * stream; a policy that gives up, or a host that lost the session (its new session has new, empty
 * RAM that the workload's pages are not in), ends the run with the connector's message as {@link
 * RunSummary#failure()}.
 *
 * <p><b>Pause.</b> The host stops the guest for live migration with PAUSE and RESUME on the
 * config stream; the {@link VcpuGate} stops every thread that writes the RAM or changes the
 * allocator at a safe point: this method's thread after each workload step and between idle
 * ticks, the reporting agent between passes and batches, the driver's thread between work items,
 * the stats timer between sends. Then it answers with the pages the workload holds ({@link
 * RamPages#ownedBitmap()}) and the lost writes. A pause ends with RESUME, when the host is lost
 * for good (a failed heartbeat wakes this method's thread, which asks the {@link Connector} while
 * the others stay stopped), at a SHUTDOWN, or at the run's end.
 *
 * <p>Threads: this method's thread drives the workload and the connector; the reporting agent
 * runs on a daemon thread named after the strategy, the balloon driver on {@value
 * BalloonDriver#THREAD_NAME} (and its stats timer), the heartbeat on {@code hintlab-heartbeat};
 * the gate on {@value VcpuGate#THREAD_NAME}; all are stopped and joined, bounded, before this
 * method returns.
 */
public final class GuestRun {
  private static final Logger LOG = LoggerFactory.getLogger(GuestRun.class);
  private static final long TICK_NANOS = TimeUnit.SECONDS.toNanos(1);
  /** A paced thread halts only when at least this far ahead: shorter sleeps are not kept. */
  private static final long MIN_HALT_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  private final RunOptions opts;
  private final Function<GuestAddress, GuestChannel> channels;
  private final HostWatch watch = new HostWatch();
  private final StepPacer pacer;
  private volatile boolean stopRequested;
  private volatile VcpuGate gate = VcpuGate.disabled();
  private Connector connector;
  private BalloonDriver driver;
  private boolean timed;
  private long deadlineNanos;
  private long reconnects;
  private long rounds;
  private long residentPages;

  /** Thrown from the step hook to leave a round: the duration is spent. */
  private static final class TimeUp extends RuntimeException {
    TimeUp() {
      super("run duration spent", null, false, false);
    }
  }

  /** Thrown from the step hook to leave a round: the host is gone for good. */
  private static final class HostLost extends RuntimeException {
    HostLost(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * A run of {@code opts}.
   *
   * @param opts what to run
   */
  public GuestRun(RunOptions opts) {
    this(opts, GuestChannel::open);
  }

  /**
   * A run whose channel to the host comes from {@code channels} (tests: an in-process host).
   *
   * @param opts what to run
   * @param channels opens the channel to {@link RunOptions#host()}
   */
  GuestRun(RunOptions opts, Function<GuestAddress, GuestChannel> channels) {
    this.opts = opts;
    this.channels = channels;
    this.pacer = new StepPacer(opts.stepRate());
  }

  /**
   * The RAM size the host is asked for: the model's pfn range times its page size.
   *
   * @param cfg the model's configuration
   * @return bytes
   */
  public static long ramBytes(MmConfig cfg) {
    return (long) cfg.endPfn() * cfg.geometry().pageSize();
  }

  /**
   * The model for {@code opts}: {@link MmConfig#forMemory} laid out for its memory and cpus.
   *
   * @param opts the options
   * @return the configuration
   * @throws IllegalArgumentException if the memory does not fit the model or is not a multiple
   *     of the page size (its pfn range would not cover the RAM the host is asked for)
   */
  public static MmConfig model(RunOptions opts) {
    long pageSize = Geometry.X86_64.pageSize();
    if (opts.memoryBytes() % pageSize != 0) {
      throw new IllegalArgumentException("--memory must be a multiple of the page size "
          + pageSize + ", got " + opts.memoryBytes());
    }
    MmConfig cfg;
    try {
      cfg = MmConfig.builder().memory(opts.memoryBytes()).nrCpus(opts.cpus()).build();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--memory: " + e.getMessage(), e);
    }
    if (ramBytes(cfg) != opts.memoryBytes()) {
      throw new IllegalStateException("the model's pfn range (" + ramBytes(cfg)
          + " bytes) differs from the guest's memory " + opts.memoryBytes());
    }
    return cfg;
  }

  /**
   * Runs: connects, attaches, runs the workload with reporting, detaches.
   *
   * @return what happened; {@link RunSummary#exitCode()} is the verdict
   * @throws IOException if the session's RAM cannot be mapped
   * @throws IllegalArgumentException if an option does not fit (the strategy's options against
   *     the model, the workload's arguments)
   */
  public RunSummary run() throws IOException {
    long t0 = System.nanoTime();
    timed = !opts.duration().isZero();
    deadlineNanos = t0 + opts.duration().toNanos();
    MmConfig cfg = model(opts);
    PageAllocator pa = new PageAllocator(cfg);
    Geometry geo = cfg.geometry();
    // Bad workload arguments and strategy options fail here, before anything is attached.
    boolean hinting;
    try {
      hinting = usesHintQueue(ReportingStrategies.create(opts.strategy(), pa, opts.reporting()),
          opts.hintQueue());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--strategy " + opts.strategy() + ": " + e.getMessage(),
          e);
    }
    Pages pages = new Pages();
    pa.setPageCopier(pages);
    Workload w;
    try {
      w = Workloads.create(opts.workload(), pa, opts.seed(),
          opts.workloadConfig().withWriter(pages));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--workload-arg " + e.getMessage(), e);
    }
    ResidentSet resident = ResidentSet.create(pa, opts.seed(), pages, opts.residentBytes());
    DriverWishes wishes = wishes(opts, hinting);
    AttachSpec spec = new AttachSpec(opts.guestName(), ramBytes(cfg), (int) geo.pageSize(),
        geo.maxPageOrder(), wishes);
    try (GuestChannel channel = channels.apply(opts.host());
        Connector conn = new Connector(channel, spec, opts.deadlines(), opts.reconnect())) {
      connector = conn;
      DeviceClient client;
      try {
        client = conn.connect();
      } catch (TransportException e) {
        return early(t0, e.getMessage());
      }
      DeviceSession session = client.session().orElseThrow();
      String missing = missingFeature(session, hinting, channel.target());
      if (missing != null) {
        return early(t0, missing);
      }
      LOG.info("guest run: attached to {}: {}", channel.target(), session);
      logOptionalFeatures(session);
      try (GuestRam ram = GuestRam.map(session.ramPath(), session.dirtyLogPath(),
          session.memoryBytes(), session.pageSize(), GuestRam.Options.DEFAULTS)) {
        pages.ram = session.has(VIRTIO_BALLOON_F_PAGE_POISON)
            ? RamPages.poisoning(ram, session.features().poisonVal())
            : RamPages.of(ram);
        pa.setPageInitializer(initOnAlloc(opts, ram));
        try {
          return attached(t0, pa, w, resident, pages.ram, client, session, ram);
        } finally {
          pa.setPageInitializer(null); // the RAM is unmapped next
        }
      }
    }
  }

  /**
   * Whether the strategy hints through the free page hint queue under the device's command ids:
   * hint-alloc-hold always (it has no other queue), free-list-walk when the user chose it (it can
   * use either), the reporting strategies never.
   *
   * @param strategy the strategy
   * @param hintQueue {@link RunOptions#hintQueue()}
   * @return true for the hint queue, false for the reporting queue
   */
  static boolean usesHintQueue(ReportingStrategy strategy, boolean hintQueue) {
    if (strategy instanceof FreeListWalkStrategy) {
      return hintQueue;
    }
    return strategy instanceof HintCommandTarget;
  }

  /**
   * init_on_alloc: with {@link RunOptions#initOnAlloc()}, post_alloc_hook()'s
   * kernel_init_pages() zeroes each allocated block in {@code ram} (dirtying it); otherwise
   * nothing.
   */
  static PageInitializer initOnAlloc(RunOptions opts, GuestRam ram) {
    return opts.initOnAlloc() ? (pfn, order) -> ram.zeroPages(pfn, 1L << order)
        : PageInitializer.NONE;
  }

  /**
   * What the driver asks for, as the Linux driver's feature table does with the run's choices:
   * reporting or hinting after the strategy, stats and deflate-on-oom as the options say.
   */
  static DriverWishes wishes(RunOptions opts, boolean hinting) {
    DriverWishes w = DriverWishes.linuxDefaults().withReporting(!hinting).withHinting(hinting)
        .withStats(!opts.statsInterval().isZero()).withDeflateOnOom(opts.deflateOnOom())
        .withReportingCapacity(opts.reporting().capacity());
    return opts.poison() ? w.withPoison(VirtioBalloon.PAGE_POISON_VAL) : w;
  }

  /** The feature the strategy cannot do without, if the device did not negotiate it. */
  private String missingFeature(DeviceSession session, boolean hinting, String target) {
    if (hinting && !session.has(VIRTIO_BALLOON_F_FREE_PAGE_HINT)) {
      return "host " + target + " did not negotiate free page hinting (FREE_PAGE_HINT), which"
          + " strategy " + opts.strategy() + (opts.hintQueue() ? " with --hint-queue" : "")
          + " needs (" + session.features() + ")";
    }
    if (!hinting && !session.has(VIRTIO_BALLOON_F_PAGE_REPORTING)) {
      return "host " + target + " did not negotiate free page reporting (PAGE_REPORTING), which"
          + " strategy " + opts.strategy() + " needs (" + session.features() + ")";
    }
    return null;
  }

  /** Like the Linux driver, the run goes on without stats or deflate-on-oom; it says so. */
  private void logOptionalFeatures(DeviceSession session) {
    if (!opts.statsInterval().isZero() && !session.has(VIRTIO_BALLOON_F_STATS_VQ)) {
      LOG.info("guest run: the host did not offer STATS_VQ; no memory statistics are sent");
    }
    if (opts.deflateOnOom() && !session.has(VIRTIO_BALLOON_F_DEFLATE_ON_OOM)) {
      LOG.info("guest run: the host did not offer DEFLATE_ON_OOM; the balloon is not deflated"
          + " on OOM");
    }
  }

  private RunSummary early(long t0, String failure) {
    return new RunSummary(opts.host().toString(), opts.strategy(), opts.workload(), opts.seed(),
        opts.memoryBytes(), seconds(t0), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "", reconnects,
        DriverMetrics.NONE, FreePageVq.Stats.NONE, 0, 0, 0, 0, 0, false, failure);
  }

  private RunSummary attached(long t0, PageAllocator pa, Workload w, ResidentSet resident,
      RamPages pages, DeviceClient client, DeviceSession session, GuestRam ram) {
    ReportingOptions ro = opts.reporting();
    if (ro.order() == ReportingOptions.ORDER_UNSPECIFIED && session.reportingOrder() > 0) {
      ro = ro.withOrder(session.reportingOrder());
    }
    ReportingStrategy strategy = ReportingStrategies.create(opts.strategy(), pa, ro);
    String failure;
    ReportingMetrics metrics;
    VcpuGate g = new VcpuGate(() -> answerPaused(client, pages, ram));
    if (timed) {
      g.setRunEnd(deadlineNanos);
    }
    gate = g;
    client.startHeartbeat(this::hostFailed);
    FreePageVq vq = freePageVq(strategy, client, g);
    // Closed in reverse order: the gate (parked threads go on), the agent
    // (page_reporting_unregister()), the free page vq (what is queued is dropped), then the
    // driver (remove_common(): the balloon is deflated), as virtballoon_remove() does.
    try (BalloonDriver drv = new BalloonDriver(pa, client, driverOptions(session, ram));
        vq;
        ReportingAgent agent = ReportingAgent.onThread(strategy, client, ro);
        g) {
      driver = drv;
      drv.setVcpuGate(g);
      agent.setVcpu(g);
      if (vq != null) {
        vq.start();
        ((HintCommandTarget) strategy).setHintSink(vq);
        drv.setHintTarget((HintCommandTarget) strategy);
      }
      metrics = agent.metrics();
      g.start();
      agent.start();
      failure = startDriver(drv);
      if (failure == null) {
        failure = runRounds(pa, w, resident);
      }
    }
    // The agent and the driver are closed: no pass runs, the balloon is empty. Verify and free
    // what is still held, the resident set last: the kernel's memory outlives the workload's.
    w.releaseAll();
    resident.releaseAll();
    List<String> violations = InvariantChecker.violations(pa);
    boolean detached = false;
    try {
      client.detach();
      detached = true;
    } catch (TransportException e) {
      LOG.warn("guest run: could not detach: {}", e.getMessage());
    }
    connector.close();
    return new RunSummary(opts.host().toString(), opts.strategy(), opts.workload(), opts.seed(),
        opts.memoryBytes(), seconds(t0), rounds, metrics.reportedBytes(), metrics.batches(),
        metrics.failedBatches(), metrics.passes(), metrics.hintRounds(), metrics.hintedPages(),
        ram.writes(), ram.verifies(),
        pages.migratedPages(), ram.lostWrites(), ram.corruptPages(), violations.size(),
        violations.isEmpty() ? "" : violations.get(0), reconnects, driver.metrics(),
        vq == null ? FreePageVq.Stats.NONE : vq.stats(), ram.zeroedPages(), residentPages,
        g.pausedCount(), g.pausedMillis(), g.lastOwnedPages(), detached, failure);
  }

  /**
   * The free page virtqueue when the strategy hints under the device's command ids, else null.
   * Its device thread calls the device directly: it stands for the VMM's side, not a vCPU.
   */
  private FreePageVq freePageVq(ReportingStrategy strategy, DeviceClient client, VcpuGate g) {
    if (!usesHintQueue(strategy, opts.hintQueue()) || !(strategy instanceof HintCommandTarget)) {
      return null;
    }
    return new FreePageVq(new DeviceHintSink(client), g, opts.freePageVqSize());
  }

  /**
   * The Paused answer, on the gate's thread with every vCPU stopped: the pages the workload
   * holds and the lost writes so far.
   */
  private static long answerPaused(DeviceClient client, RamPages pages, GuestRam ram)
      throws TransportException {
    byte[] owned = pages.ownedBitmap();
    long ownedPages = pages.heldPages();
    long lost = ram.lostWrites();
    client.paused(owned, lost);
    LOG.info("guest run: paused; answered with {} owned pages and {} lost writes", ownedPages,
        lost);
    return ownedPages;
  }

  /**
   * A failed heartbeat (heartbeat thread): the control thread reconnects, also while it is
   * parked by a pause (nudged awake).
   */
  private void hostFailed(TransportException e) {
    if (e.reason() == TransportException.Reason.CANCELLED) {
      return; // our own close
    }
    watch.failed(e);
    gate.nudge();
  }

  /**
   * The driver's options: the run's stats interval, and with PAGE_POISON the poison written into
   * each deflated page before it is freed, as the kernel's free path does with page_poison=1.
   */
  private DriverOptions driverOptions(DeviceSession session, GuestRam ram) {
    IntConsumer init = DriverOptions.NO_INIT;
    if (session.has(VIRTIO_BALLOON_F_PAGE_POISON)) {
      int poisonVal = session.features().poisonVal();
      init = pfn -> ram.poisonPage(pfn, poisonVal);
    }
    return DriverOptions.defaults().withStatsInterval(opts.statsInterval())
        .withReleasedPageInit(init);
  }

  /** Starts the driver; the failure for the summary if its config stream cannot be opened. */
  private String startDriver(BalloonDriver drv) {
    try {
      drv.start();
      return null;
    } catch (TransportException e) {
      return "host " + opts.host() + ": the balloon driver could not open the config stream: "
          + e.getMessage();
    }
  }

  /**
   * The resident set's fill, then the rounds of the workload, in guest mode (this thread is a
   * vCPU); the failure for the summary if the host was lost.
   */
  private String runRounds(PageAllocator pa, Workload w, ResidentSet resident) {
    w.setStepHook(this::workloadStep);
    try {
      enterGuest(); // in guest mode from here on, also when it throws HostLost
      fillResident(resident);
      do {
        rounds++;
        try {
          w.run(opts.ops());
        } finally {
          w.setStepHook(null);
          w.releaseAll();
          w.setStepHook(this::workloadStep);
        }
        idle(pa);
      } while (timed && System.nanoTime() - deadlineNanos < 0);
    } catch (TimeUp e) {
      LOG.debug("guest run: duration spent in round {}", rounds);
    } catch (HostLost e) {
      return e.getMessage();
    } finally {
      w.setStepHook(null);
      gate.exit();
    }
    return null;
  }

  /**
   * Allocates and writes the resident set. After each allocation, as in a round, a pause parks
   * this thread and the run's end or a lost host stops the fill; what the set holds when the fill
   * ends is the summary's.
   */
  private void fillResident(ResidentSet resident) {
    if (resident.targetPages() == 0) {
      return;
    }
    resident.setStepHook(this::checkpoint);
    try {
      resident.run(0);
    } finally {
      resident.setStepHook(null);
      residentPages = resident.heldPages();
    }
    long pageSize = resident.allocator().geometry().pageSize();
    if (residentPages < resident.targetPages()) {
      LOG.warn("guest run: the resident set holds {} of {} pages ({} of {} MiB): the memory ran"
          + " out", residentPages, resident.targetPages(), (residentPages * pageSize) >> 20,
          (resident.targetPages() * pageSize) >> 20);
    } else {
      LOG.info("guest run: the resident set holds {} pages", residentPages);
    }
  }

  /** The idle stretch after a round, in real time; cut at the run's end. */
  private void idle(PageAllocator pa) {
    long start = System.nanoTime();
    long end = start + opts.idle().toNanos();
    if (timed && deadlineNanos - end < 0) {
      end = deadlineNanos;
    }
    long nextTick = start + TICK_NANOS;
    while (true) {
      long now = System.nanoTime();
      if (now - end >= 0 || stopRequested) {
        return;
      }
      if (halt(Math.min(end - now, nextTick - now))) {
        continue;
      }
      if (System.nanoTime() - nextTick >= 0) {
        pa.refreshCpuVmStats();
        pa.kswapdBalance();
        nextTick += TICK_NANOS;
      }
    }
  }

  /**
   * An idle vCPU is halted: out of guest mode for up to {@code nanos}, stopped there by a pause,
   * woken early by a failed host (handled at the checkpoint) or the end of the run.
   *
   * @return whether a host failure woke it
   */
  private boolean halt(long nanos) {
    boolean failed;
    gate.exit();
    try {
      failed = watch.await(nanos);
    } finally {
      enterGuest();
    }
    if (failed) {
      checkpoint();
    }
    return failed;
  }

  /** The end of a workload step: the safe point, then the pace (a thread ahead of it halts). */
  private void workloadStep() {
    checkpoint();
    long ahead = pacer.step(System.nanoTime());
    if (ahead >= MIN_HALT_NANOS) {
      halt(ahead);
    }
  }

  /**
   * The control thread's safe point between allocator calls: a pause (parked here until it
   * ends), the run's end, and a host that went away (reconnect or give up, as the policy says).
   */
  private void checkpoint() {
    VcpuGate g = gate;
    if (!g.checkpoint(watch::isFlagged)) {
      enterGuest(); // woken while paused because the host failed: ask the connector first
    }
    if (g.overran()) {
      throw new HostLost("host " + opts.host() + " kept the guest paused longer than "
          + g.maxPause() + "; the run stops");
    }
    TransportException cause = watch.flagged ? watch.take() : null;
    if (cause != null) {
      // Locking: out of guest mode for the reconnect, whose backoff waits are a halt.
      g.exit();
      reconnectOutsideGuest(cause);
      enterGuest();
    }
    if (stopRequested || timed && System.nanoTime() - deadlineNanos >= 0) {
      throw new TimeUp();
    }
  }

  /**
   * Ends the run early, as if its duration were spent: a round in progress stops after the
   * allocator call in progress, an idle stretch at once; the run then frees, checks and detaches
   * as usual. Callable from any thread (the command line's stdin watcher).
   */
  public void requestStop() {
    stopRequested = true;
    watch.wake();
  }

  /**
   * Enters guest mode. While the guest is paused a failed heartbeat wakes this thread, which
   * then asks the connector, still out of guest mode and with the other vCPUs parked: a resumed
   * session stays paused (the host still holds it stopped), a host lost for good ends the pause.
   */
  private void enterGuest() {
    VcpuGate g = gate;
    while (!g.enter(watch::isFlagged)) {
      TransportException cause = watch.take();
      if (cause != null) {
        reconnectOutsideGuest(cause);
      }
    }
  }

  /**
   * Reconnects after {@code cause}, out of guest mode. A host lost for good releases a pause (no
   * RESUME can come from it) and this thread enters guest mode before the run ends.
   */
  private void reconnectOutsideGuest(TransportException cause) {
    try {
      reconnect(cause);
    } catch (HostLost e) {
      gate.release("the host is lost: " + e.getMessage());
      gate.enter();
      throw e;
    }
  }

  private void reconnect(TransportException cause) {
    try {
      Connector.Connection c = connector.reconnect(cause);
      if (!c.resumed()) {
        throw new HostLost("host " + opts.host() + " lost the session; the new session has"
            + " new, empty RAM without the workload's pages, so the run stops");
      }
      reconnects++;
      LOG.info("guest run: session resumed after {} attempt(s)", c.attempts());
    } catch (TransportException e) {
      throw new HostLost(e.getMessage());
    }
    rewatch();
  }

  /** A resumed session: its config stream broke with the host, so the driver opens a new one. */
  private void rewatch() {
    BalloonDriver d = driver;
    if (d == null) {
      return;
    }
    try {
      d.rewatch();
    } catch (TransportException e) {
      throw new HostLost("host " + opts.host() + ": the session resumed but the balloon driver"
          + " could not reopen its config stream: " + e.getMessage());
    }
  }

  private static double seconds(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }

  /**
   * The workload's page writer and the allocator's copier before the RAM is mapped (nothing is
   * allocated then) and {@link RamPages} after: the workload and the allocator are built, and
   * their options checked, before the guest attaches.
   */
  private static final class Pages implements PageWriter, PageCopier {
    private RamPages ram;

    @Override
    public void write(int pfn, int nrPages, int owner, long generation) {
      ram.write(pfn, nrPages, owner, generation);
    }

    @Override
    public int verify(int pfn, int nrPages, int owner, long generation) {
      return ram.verify(pfn, nrPages, owner, generation);
    }

    @Override
    public void copy(int dst, int src, int order) {
      ram.copy(dst, src, order);
    }
  }

  /** Failed heartbeats, handed from the heartbeat thread to the control thread. */
  private static final class HostWatch {
    private TransportException pending; // guarded by this
    private boolean woken; // guarded by this
    /** Whether a failure is pending: the step hook's lock-free check. */
    volatile boolean flagged;

    synchronized void failed(TransportException e) {
      if (pending == null) {
        pending = e;
      }
      flagged = true;
      notifyAll();
    }

    boolean isFlagged() {
      return flagged;
    }

    synchronized TransportException take() {
      TransportException e = pending;
      pending = null;
      flagged = false;
      return e;
    }

    /** Ends a wait in {@link #await} early (a stop was requested); it returns false. */
    synchronized void wake() {
      woken = true;
      notifyAll();
    }

    /** Waits up to {@code nanos} for a failure; true if one is pending. */
    synchronized boolean await(long nanos) {
      long end = System.nanoTime() + nanos;
      try {
        while (pending == null && !woken) {
          long left = end - System.nanoTime();
          if (left <= 0) {
            return false;
          }
          TimeUnit.NANOSECONDS.timedWait(this, left);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new HostLost("interrupted while idle");
      }
      return pending != null;
    }
  }
}
