package io.hintlab.guest.cli;

import io.hintlab.guest.driver.FreePageVq;
import io.hintlab.guest.reporting.FreeListWalkStrategy;
import io.hintlab.guest.reporting.HintAllocHoldStrategy;
import io.hintlab.guest.reporting.ReportingOptions;
import io.hintlab.guest.reporting.ReportingStrategies;
import io.hintlab.guest.run.GuestRun;
import io.hintlab.guest.run.RunOptions;
import io.hintlab.guest.run.RunSummary;
import io.hintlab.guest.transport.CallDeadlines;
import io.hintlab.guest.transport.GuestAddress;
import io.hintlab.guest.transport.ReconnectPolicy;
import io.hintlab.guest.workload.IdleWorkload;
import io.hintlab.guest.workload.WorkloadConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code hintlab guest run}: the guest attached to a host ({@link GuestRun}), with its balloon
 * driver, and a summary table or one JSON object at the end. Exit code 0 on success; 1 on lost
 * writes, corrupt pages, invariant violations or host loss (one line on stderr says which); 2 on
 * bad options (one line naming the option).
 */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
      "Attach to a host as a guest: map the RAM the host provides, run a workload on the "
          + "allocator model with every page written into that RAM and verified before it is "
          + "freed, and report free memory to the host with a reporting strategy (or hint it, "
          + "with hint-alloc-hold, when the host asks). The virtio-balloon driver runs beside "
          + "it: it inflates and deflates the balloon to the target the host sets, moves balloon "
          + "pages when compaction needs it, deflates on OOM and sends memory statistics, "
          + "taking what the host offers as the Linux driver does. When the host pauses the "
          + "guest for a live migration, every thread that writes guest memory stops at a safe "
          + "point and the guest answers with the pages holding its data. A round runs the "
          + "workload, "
          + "frees what it holds and stays idle (real time); with --seconds, rounds repeat until "
          + "the time is spent. At the end the balloon is deflated. Prints a summary."})
final class RunCommand implements Callable<Integer> {
  private static final Pattern DURATION =
      Pattern.compile("(\\d{1,9})\\s*(ms|s)", Pattern.CASE_INSENSITIVE);

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--host", paramLabel = "ADDR", required = true,
      description = "Where the host listens: unix:PATH or HOST:PORT (loopback only).")
  String host;

  @Option(names = "--strategy", paramLabel = "NAME", defaultValue = ReportingStrategies.DEFAULT,
      description = "The reporting strategy: page-reporting, isolate-report, bitmap-hinting, "
          + "free-list-walk (with --hint-queue: free page hinting), or hint-alloc-hold (free page "
          + "hinting, needs FREE_PAGE_HINT instead of PAGE_REPORTING) (default: "
          + "${DEFAULT-VALUE}).")
  String strategy;

  @Option(names = "--workload", paramLabel = "NAME", defaultValue = IdleWorkload.NAME,
      description = "The workload: balloon, churn, contig, fragment, idle, memhog, mixed, replay "
          + "or thp (default: ${DEFAULT-VALUE}).")
  String workload;

  @Mixin WorkloadOptions.Params workloadParams;

  @Option(names = "--memory", paramLabel = "SIZE", converter = Sizes.Converter.class,
      defaultValue = "1G",
      description = "Guest RAM: bytes or 1G, 512M, 1GiB... (default: ${DEFAULT-VALUE}).")
  long memory;

  @Option(names = "--resident", paramLabel = "SIZE", converter = ResidentSize.class,
      defaultValue = "0",
      description = "Memory the guest's kernel and page cache keep in use for the whole run "
          + "(page cache and anonymous pages, slab, page tables): allocated and written before "
          + "the first round, held through every round and idle stretch, so a migration sees "
          + "those pages in use, and freed at the end; e.g. --workload idle --resident 400M is "
          + "an idle 4G guest with about 90%% free (default: 0, nothing resident).")
  long resident;

  @Option(names = "--cpus", paramLabel = "N", defaultValue = "2",
      description = "Modelled cpus (default: ${DEFAULT-VALUE}).")
  int cpus;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
      description = "Seed of the workload (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--ops", paramLabel = "N", defaultValue = "0",
      description = "The workload's amount of work per round (0: its default).")
  long ops;

  @Option(names = "--step-rate", paramLabel = "N", defaultValue = "0",
      description = "Workload steps (allocations and frees) per second in real time; a thread "
          + "ahead of its schedule halts out of guest mode. Unpaced, the model runs a few million "
          + "steps a second, so churn keeps a block for milliseconds; paced, pages live as long "
          + "as in a real guest, e.g. across a migration's bitmap syncs (default: 0, as fast as "
          + "the model goes).")
  long stepRate;

  @Option(names = "--seconds", paramLabel = "S",
      description = "Run for S seconds, repeating rounds (default: one round).")
  Long seconds;

  @Option(names = "--idle-seconds", paramLabel = "S",
      description = "Seconds the guest stays idle after each round (default: "
          + IdleWorkload.IDLE_TICKS + " for idle, 0 for the others).")
  Long idleSeconds;

  @Option(names = "--report-order", paramLabel = "N",
      description = "Lowest order reported (default: the device's, else the pageblock order).")
  Integer reportOrder;

  @Option(names = "--capacity", paramLabel = "N",
      defaultValue = "" + ReportingOptions.PAGE_REPORTING_CAPACITY,
      description = "Blocks per report (and per hint of free-list-walk), a power of two "
          + "(default: ${DEFAULT-VALUE}).")
  int capacity;

  @Option(names = "--delay", paramLabel = "DURATION",
      description = "Delay between a reporting request and its pass, e.g. 100ms or 2s "
          + "(default: 2s; 0s for hint-alloc-hold and free-list-walk --hint-queue, whose work "
          + "the kernel queues at once when a command id arrives).")
  String delay;

  @Option(names = "--budget-divisor", paramLabel = "N",
      defaultValue = "" + ReportingOptions.PAGE_REPORTING_BUDGET_DIVISOR,
      description = "Reports per free list and pass: nr_free / (capacity * N) + 1; 0: no "
          + "budget (default: ${DEFAULT-VALUE}).")
  int budgetDivisor;

  @Option(names = "--batch-size", paramLabel = "N",
      defaultValue = "" + ReportingOptions.DEFAULT_BATCH_SIZE,
      description = "Blocks per batch for bitmap-hinting (its 16-entry array) and per hint call "
          + "of hint-alloc-hold (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--cursor", paramLabel = "KIND", defaultValue = "progress",
      description = "How free-list-walk resumes its walk: original (the v12 patch: restarts at "
          + "the list head when its block changed, so it can re-offer the same blocks) or "
          + "progress (always moves forward) (default: ${DEFAULT-VALUE}).")
  String cursor;

  @Option(names = "--hint-queue",
      description = "free-list-walk only: hint through the free page hint queue under the "
          + "host's command ids (FREE_PAGE_HINT, as Wei Wang's series did for live migration) "
          + "instead of the reporting queue: each new id starts a walk, STOP ends it, and the "
          + "hinted blocks stay free (default: the reporting queue).")
  boolean hintQueue;

  @Option(names = "--free-page-vq-size", paramLabel = "N",
      defaultValue = "" + FreePageVq.QEMU_FREE_PAGE_VQ_SIZE,
      description = "Descriptors of the free page virtqueue (hint-alloc-hold, free-list-walk "
          + "--hint-queue): the driver queues the start, each hinted block and the stop without "
          + "waiting for the device, which takes them in order on its own thread, so a hint "
          + "reaches the host some time after its block was picked; a full ring makes the driver "
          + "wait, one descriptor kept for the cmd id. At least 2 (default: ${DEFAULT-VALUE}, "
          + "QEMU's; Firecracker's is 256).")
  int freePageVqSize;

  @Option(names = "--isolation-cpu", paramLabel = "N",
      description = "The cpu whose per-cpu lists isolate-report's isolation and hint-alloc-hold's "
          + "allocations use (default: the last cpu).")
  Integer isolationCpu;

  @Option(names = "--reconnect", paramLabel = "N",
      description = "When the host goes away, reconnect up to N times with backoff (default: "
          + "10).")
  Integer reconnect;

  @Option(names = "--exit-on-host-loss",
      description = "When the host goes away, stop at once (exit code 1).")
  boolean exitOnHostLoss;

  @Option(names = "--page-poison",
      description = "Poison freed pages (page_poison=1) and negotiate PAGE_POISON.")
  boolean pagePoison;

  @Option(names = "--stats-interval", paramLabel = "DURATION", defaultValue = "10s",
      description = "How often the balloon driver sends memory statistics (free, total and "
          + "available memory, allocation stalls), e.g. 500ms or 10s; 0 does not negotiate "
          + "STATS_VQ (default: ${DEFAULT-VALUE}).")
  String statsInterval;

  @Option(names = "--deflate-on-oom", negatable = true, defaultValue = "true",
      fallbackValue = "true",
      description = "Negotiate DEFLATE_ON_OOM when the host offers it: before an allocation "
          + "fails, the balloon gives back 256 pages at a time (default: on).")
  boolean deflateOnOom;

  @Option(names = "--init-on-alloc", negatable = true, defaultValue = "true",
      fallbackValue = "true",
      description = "Zero every allocated block in guest memory, as init_on_alloc=1 does (on "
          + "in Debian's kernels): workload pages, balloon pages and the blocks hint-alloc-hold "
          + "holds, which are dirtied and so sent again by a migration (default: on).")
  boolean initOnAlloc;

  @Option(names = "--name", paramLabel = "NAME", defaultValue = "hintlab-guest",
      description = "The guest's name on the host (default: ${DEFAULT-VALUE}).")
  String name;

  @Option(names = "--json", description = "Print one JSON object.")
  boolean json;

  @Option(names = "--stop-on-stdin-eof",
      description = "End the run (free, check, detach, print) when standard input reaches its end:"
          + " how pair and migrate ask their guest to finish.")
  boolean stopOnStdinEof;

  @Override
  public Integer call() throws Exception {
    RunOptions opts = options();
    GuestRun.model(opts); // --memory against the model, before connecting
    GuestRun run = new GuestRun(opts);
    if (stopOnStdinEof) {
      watchStdin(run);
    }
    RunSummary s = run.run();
    PrintWriter out = spec.commandLine().getOut();
    Map<String, Object> m = s.toMap();
    if (json) {
      out.println(JsonOut.write(m));
    } else {
      int w = m.keySet().stream().mapToInt(String::length).max().orElse(0);
      m.forEach((k, v) -> out.printf("%-" + w + "s  %s%n", k, v));
    }
    out.flush();
    if (s.problem().isPresent()) {
      PrintWriter err = spec.commandLine().getErr();
      err.println("hintlab guest run: " + s.problem().get());
      err.flush();
    }
    return s.exitCode();
  }

  /**
   * Checks every option and builds the run's options.
   *
   * @throws IllegalArgumentException naming the first bad option
   */
  RunOptions options() throws IOException {
    GuestAddress address;
    try {
      address = GuestAddress.parse(host);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--host: " + e.getMessage(), e);
    }
    if (!ReportingStrategies.names().contains(strategy)) {
      throw new IllegalArgumentException("--strategy: unknown strategy '" + strategy
          + "': expected one of " + String.join(", ", ReportingStrategies.names()));
    }
    WorkloadOptions.checkName(workload);
    workloadParams.check(workload);
    ModelOptions.checkCpus(cpus);
    if (resident >= memory) {
      throw new IllegalArgumentException("--resident must be less than --memory ("
          + Sizes.format(memory) + "), got " + Sizes.format(resident));
    }
    if (ops < 0) {
      throw new IllegalArgumentException("--ops must be >= 0, got " + ops);
    }
    if (stepRate < 0) {
      throw new IllegalArgumentException("--step-rate must be >= 0, got " + stepRate);
    }
    if (freePageVqSize < FreePageVq.MIN_SIZE) {
      throw new IllegalArgumentException("--free-page-vq-size must be at least "
          + FreePageVq.MIN_SIZE + " (one descriptor is kept for the cmd id), got "
          + freePageVqSize);
    }
    if (seconds != null && (seconds < 1 || seconds > 1_000_000)) {
      throw new IllegalArgumentException("--seconds must be in [1, 1000000], got " + seconds);
    }
    long idle = idleSeconds != null ? idleSeconds
        : workload.equals(IdleWorkload.NAME) ? IdleWorkload.IDLE_TICKS : 0;
    if (idle < 0 || idle > 1_000_000) {
      throw new IllegalArgumentException("--idle-seconds must be in [0, 1000000], got " + idle);
    }
    if (reportOrder != null && reportOrder < 0) {
      throw new IllegalArgumentException("--report-order must be >= 0, got " + reportOrder);
    }
    if (capacity < 1 || capacity > ReportingOptions.MAX_CAPACITY
        || Integer.bitCount(capacity) != 1) {
      throw new IllegalArgumentException("--capacity must be a power of two in [1, "
          + ReportingOptions.MAX_CAPACITY + "], got " + capacity);
    }
    if (budgetDivisor < 0) {
      throw new IllegalArgumentException("--budget-divisor must be >= 0, got " + budgetDivisor);
    }
    if (batchSize < 1 || batchSize > ReportingOptions.MAX_CAPACITY) {
      throw new IllegalArgumentException("--batch-size must be in [1, "
          + ReportingOptions.MAX_CAPACITY + "], got " + batchSize);
    }
    ReportingOptions.Cursor walkCursor = parseCursor(cursor);
    if (hintQueue && !strategy.equals(FreeListWalkStrategy.NAME)) {
      throw new IllegalArgumentException("--hint-queue is for " + FreeListWalkStrategy.NAME
          + " only (" + HintAllocHoldStrategy.NAME + " always hints through the free page hint"
          + " queue), not " + strategy);
    }
    if (isolationCpu != null && (isolationCpu < 0 || isolationCpu >= cpus)) {
      throw new IllegalArgumentException("--isolation-cpu must be in [0, " + cpus + "), got "
          + isolationCpu);
    }
    if (reconnect != null && exitOnHostLoss) {
      throw new IllegalArgumentException(
          "--reconnect and --exit-on-host-loss are mutually exclusive");
    }
    if (reconnect != null && (reconnect < 1 || reconnect > 1000)) {
      throw new IllegalArgumentException("--reconnect must be in [1, 1000], got " + reconnect);
    }
    if (name.isBlank()) {
      throw new IllegalArgumentException("--name must not be blank");
    }
    ReconnectPolicy policy = exitOnHostLoss ? ReconnectPolicy.exit()
        : reconnect == null ? ReconnectPolicy.defaults()
            : ReconnectPolicy.reconnect(reconnect, Duration.ofMillis(200), Duration.ofSeconds(5));
    ReportingOptions reporting = ReportingOptions.defaults()
        .withOrder(reportOrder == null ? ReportingOptions.ORDER_UNSPECIFIED : reportOrder)
        .withCapacity(capacity)
        .withDelay(delay == null ? defaultDelay() : parseDelay(delay))
        .withBudgetDivisor(budgetDivisor)
        .withBatchSize(batchSize)
        .withCursor(walkCursor)
        .withIsolationCpu(isolationCpu == null ? ReportingOptions.CPU_UNSPECIFIED : isolationCpu);
    Duration stats = parseStatsInterval(statsInterval);
    WorkloadConfig config = workloadParams.config(workload);
    return new RunOptions(address, name, memory, resident, cpus, strategy, reporting, workload,
        config, seed, ops, stepRate, seconds == null ? Duration.ZERO : Duration.ofSeconds(seconds),
        Duration.ofSeconds(idle), pagePoison, stats, deflateOnOom, initOnAlloc, hintQueue,
        freePageVqSize, policy, CallDeadlines.defaults());
  }

  /**
   * The strategy's delay, or none for free-list-walk on the hint queue: a command id queues the
   * walk with queue_work(), as it does hint-alloc-hold's.
   */
  private Duration defaultDelay() {
    return hintQueue ? HintAllocHoldStrategy.DEFAULT_DELAY
        : ReportingStrategies.defaultDelay(strategy);
  }

  /**
   * Asks the run to stop when stdin ends. The watcher is a daemon: a read of stdin cannot be
   * interrupted, so it ends with the process, and it touches nothing but the run's stop flag.
   */
  private static void watchStdin(GuestRun run) {
    Thread t = new Thread(() -> {
      try {
        while (System.in.read() >= 0) {
          // the lab writes nothing; anything read is ignored until the end of input
        }
      } catch (IOException e) {
        // a broken pipe is an end of input too
      }
      run.requestStop();
    }, "hintlab-stdin-watch");
    t.setDaemon(true);
    t.start();
  }

  /**
   * {@code --resident}: a size as {@link Sizes} reads it, or 0 (any unit) for nothing resident,
   * which a size of memory cannot be.
   */
  static final class ResidentSize implements CommandLine.ITypeConverter<Long> {
    private static final Pattern ZERO =
        Pattern.compile("0+\\s*(?:[kmgt](?:ib)?|b)?", Pattern.CASE_INSENSITIVE);

    @Override
    public Long convert(String value) {
      if (value != null && ZERO.matcher(value.strip()).matches()) {
        return 0L;
      }
      return new Sizes.Converter().convert(value);
    }
  }

  /** {@code original} or {@code progress}. */
  static ReportingOptions.Cursor parseCursor(String text) {
    for (ReportingOptions.Cursor c : ReportingOptions.Cursor.values()) {
      if (c.name().equalsIgnoreCase(text.strip())) {
        return c;
      }
    }
    throw new IllegalArgumentException("--cursor must be original or progress, got '" + text
        + "'");
  }

  /** {@code 100ms} or {@code 2s}. */
  static Duration parseDelay(String text) {
    return parseDuration("--delay", text);
  }

  /** {@code 500ms}, {@code 10s}, or {@code 0} (no stats). */
  static Duration parseStatsInterval(String text) {
    return text != null && text.strip().equals("0") ? Duration.ZERO
        : parseDuration("--stats-interval", text);
  }

  private static Duration parseDuration(String option, String text) {
    Matcher m = DURATION.matcher(text == null ? "" : text.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          option + ": expected a duration like 100ms or 2s, got '" + text + "'");
    }
    long n = Long.parseLong(m.group(1));
    return m.group(2).toLowerCase(Locale.ROOT).equals("ms") ? Duration.ofMillis(n)
        : Duration.ofSeconds(n);
  }
}
