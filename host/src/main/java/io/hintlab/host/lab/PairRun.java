package io.hintlab.host.lab;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * {@code hintlab pair}: a host and a guest as separate processes on a private socket, one
 * scenario, both stopped at the end.
 *
 * <p>In order: a private {@link LabDir}; {@code host serve} on a socket in it (or 127.0.0.1
 * port 0), waited for until its control service answers; {@code guest run --json} with its stdout
 * in a file of its own; the guest found in {@code ListGuests} by its pid; then, every {@value
 * #POLL_MS} ms until the guest exits, a {@code GetGuest} sample ({@link GuestWatch}), the balloon
 * and hinting calls that are due ({@link ControlDriver}) and the progress line; then the host is
 * stopped and the guest's JSON read.
 *
 * <p>Every wait is bounded: the host's start ({@link LabHost#READY_TIMEOUT}), the guest's attach
 * ({@link #ATTACH_TIMEOUT}), its exit ({@code --seconds} + {@link #EXIT_GRACE}), every call
 * ({@link PairControl#CALL_DEADLINE}) and every stop ({@link #STOP_GRACE} per signal). A child
 * that dies ends the run with a message naming it, its exit code, its log and the log's last
 * lines; the logs are then kept. A shutdown hook stops both children if the pair itself is
 * interrupted (Ctrl-C, SIGTERM).
 *
 * <p>Threads: the caller's thread does all of this; the shutdown hook of its {@link LabSession}
 * ({@code hintlab-pair-shutdown}) runs only when the JVM is asked to exit during the run.
 */
public final class PairRun {
  /** How often the host is sampled. */
  static final int POLL_MS = 100;

  /** How long a guest JVM may take to start, build its model and attach. */
  static final Duration ATTACH_TIMEOUT = Duration.ofSeconds(60);

  /** Time past {@code --seconds} for the guest to verify its pages, check and detach. */
  static final Duration EXIT_GRACE = Duration.ofSeconds(30);

  /** Wait after SIGTERM (and again after SIGKILL) when a child is stopped. */
  static final Duration STOP_GRACE = LabSession.STOP_GRACE;

  private final PairOptions opts;
  private final LabCommands commands;
  private final PrintStream err;
  private final String task;

  /**
   * A run of {@code opts}.
   *
   * @param opts the scenario
   * @param commands the children's command lines
   * @param err where the progress bar and the status lines go
   * @param task the name in messages and on the progress bar ("pair" or "demo")
   */
  public PairRun(PairOptions opts, LabCommands commands, PrintStream err, String task) {
    this.opts = opts;
    this.commands = commands;
    this.err = err;
    this.task = task;
  }

  /**
   * Runs the scenario.
   *
   * @return the result; {@link PairResult#exitCode()} is the verdict on the guest's run
   * @throws IllegalArgumentException if the guest refused its options (exit code 2)
   * @throws IllegalStateException if a child died, did not start or did not finish in time
   */
  public PairResult run() throws IOException, InterruptedException {
    return new LabSession(task, err).run(this::runIn,
        r -> opts.keepLogs() || r.exitCode() != 0);
  }

  private PairResult runIn(LabDir dir, LabChildren children)
      throws IOException, InterruptedException {
    try (LabHost host = LabHost.start(commands, dir, opts.transport(), opts.mode(), children)) {
      err.printf("hintlab %s: host ready on %s (pid %d, log %s)%n", task, host.address(),
          host.process().pid(), host.process().log());
      Path stdout = dir.resolve("guest-stdout.log");
      long guestStart = System.nanoTime();
      ChildProcess guest = children.add(ChildProcess.start("guest",
          commands.guestRun(opts.guestRunArgs(host.guestAddress())), dir.resolve("guest.log"),
          stdout));
      PairControl control = new PairControl(host.channel().channel());
      String guestId = awaitAttach(control, host, guest);
      err.printf("hintlab %s: guest %s attached (pid %d, log %s)%n", task, guestId, guest.pid(),
          guest.log());
      err.flush();
      long t0 = System.nanoTime();
      GuestWatch watch = new GuestWatch();
      ControlDriver driver = new ControlDriver(opts.balloon(), opts.hints(), opts.memoryBytes());
      follow(control, host, guest, guestId, watch, driver, t0, guestStart);
      double wall = (System.nanoTime() - t0) / 1e9;
      return result(host, guest, stdout, watch, driver, wall);
    }
  }

  /**
   * Polls ListGuests until the guest with our child's pid is there (bounded by {@link
   * #ATTACH_TIMEOUT}); fails at once if the host or the guest dies.
   */
  static String awaitAttach(PairControl control, LabHost host, ChildProcess guest)
      throws InterruptedException {
    long deadline = System.nanoTime() + ATTACH_TIMEOUT.toNanos();
    while (true) {
      host.process().checkAlive();
      if (!guest.isAlive()) {
        throw guestEnded(guest);
      }
      Optional<String> id = control.findByPid(guest.pid());
      if (id.isPresent()) {
        return id.get();
      }
      if (System.nanoTime() - deadline >= 0) {
        throw new IllegalStateException("the guest did not attach within "
            + ATTACH_TIMEOUT.toSeconds() + " s; " + describe(guest));
      }
      guest.waitFor(Duration.ofMillis(POLL_MS));
    }
  }

  /**
   * The sampling loop: until the guest exits, bounded by --seconds + EXIT_GRACE. Samples and
   * control calls count time from the attach ({@code t0}); the progress bar counts it from the
   * guest's start, because the guest's --seconds include its start-up and attach.
   */
  private void follow(PairControl control, LabHost host, ChildProcess guest,
      String guestId, GuestWatch watch, ControlDriver driver, long t0, long guestStart)
      throws InterruptedException {
    long deadline = t0 + TimeUnit.SECONDS.toNanos(opts.seconds()) + EXIT_GRACE.toNanos();
    ControlDriver.Calls calls = control.calls(guestId);
    Duration sinceGuestStart = Duration.ofNanos(System.nanoTime() - guestStart);
    try (RssProgress progress = opts.progress()
        ? RssProgress.bar(task, opts.seconds(), sinceGuestStart, err) : RssProgress.none()) {
      while (guest.isAlive()) {
        host.process().checkAlive();
        long now = System.nanoTime();
        if (now - deadline >= 0) {
          throw new IllegalStateException("the guest did not finish within --seconds "
              + opts.seconds() + " + " + EXIT_GRACE.toSeconds() + " s; " + describe(guest));
        }
        double elapsed = (now - t0) / 1e9;
        if (!watch.isGone()) {
          control.sample(guestId, watch, elapsed);
        }
        if (!watch.isGone()) {
          driver.tick(elapsed, calls);
        }
        progress.update((now - guestStart) / 1e9, watch.latestBytes());
        guest.waitFor(Duration.ofMillis(POLL_MS)); // returns at once when the guest exits
      }
    }
  }

  private PairResult result(LabHost host, ChildProcess guest, Path stdout, GuestWatch watch,
      ControlDriver driver, double wall) throws IOException {
    int code = guest.exitCode().orElseThrow();
    Optional<GuestReport> report = GuestReport.read(stdout);
    if (code == 2 || report.isEmpty()) {
      throw guestEnded(guest);
    }
    Optional<String> problem = Optional.empty();
    if (code != 0) {
      problem = Optional.of("the guest failed (exit code " + code + "); " + describe(guest));
    } else if (watch.endBytes().isEmpty()) {
      problem = Optional.of("the host answered no sample while the guest was attached ("
          + watch.samples() + " answer(s)), so its RSS at the end is unknown");
    }
    return new PairResult(opts, host.guestAddress(), report.get(), code, watch,
        driver.balloonStepsApplied(), driver.hintRoundsStarted(), driver.errors(), wall,
        problem);
  }

  /** The guest exited where it should not have: bad options (exit 2) or a death. */
  private static RuntimeException guestEnded(ChildProcess guest) {
    if (guest.exitCode().orElse(-1) == 2) {
      return new IllegalArgumentException("the guest refused its options (exit code 2; see "
          + "--strategy, --workload, --memory and --guest-arg); " + describe(guest));
    }
    return new IllegalStateException(guest.deathMessage());
  }

  /** The child's log and its last lines, for messages. */
  static String describe(ChildProcess c) {
    StringBuilder sb = new StringBuilder("log ").append(c.log());
    List<String> tail = ChildProcess.tail(c.log(), ChildProcess.TAIL_LINES);
    if (!tail.isEmpty()) {
      sb.append(", last lines:");
      tail.forEach(l -> sb.append("\n  ").append(l));
    }
    return sb.toString();
  }
}
