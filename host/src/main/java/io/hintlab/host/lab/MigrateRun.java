package io.hintlab.host.lab;

import io.hintlab.proto.v1.MigrationProgress;
import io.hintlab.proto.v1.MigrationReport;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code hintlab migrate}: for each run {@code --hinting} asks for, a fresh pair (a {@code host
 * serve --mode migrate} and a {@code guest run} as processes, in a {@link LabSession}), the
 * guest's workload left to run for {@code --migrate-after} seconds after its attach, then one
 * streaming {@code Migrate} call ({@link MigrateCall}) with progress lines on stderr, then the
 * guest told to detach (its stdin closed) and both processes stopped. The compare run without
 * hints is a second pair with the same seed and the same timing, so both migrate the same guest
 * state.
 *
 * <p>Every wait is bounded: the host's start, the attach ({@link PairRun#ATTACH_TIMEOUT}), the
 * wait before migrating (the guest and host are checked every {@value MigrateCall#POLL_MS} ms),
 * the call ({@link MigrateOptions#callDeadline()}), the guest's detach ({@link #DETACH_GRACE})
 * and every stop. A child that dies ends the run with a message naming it, its log and the log's
 * last lines; the logs are then kept.
 *
 * <p>Threads: the caller's thread does all of this; gRPC's threads only queue the call's events.
 */
public final class MigrateRun {
  /** How long the guest may take to detach once its stdin is closed. */
  static final Duration DETACH_GRACE = Duration.ofSeconds(15);

  private final MigrateOptions opts;
  private final LabCommands commands;
  private final PrintStream err;

  /**
   * A run of {@code opts}.
   *
   * @param opts the scenario
   * @param commands the children's command lines
   * @param err where the status and progress lines go
   */
  public MigrateRun(MigrateOptions opts, LabCommands commands, PrintStream err) {
    this.opts = opts;
    this.commands = commands;
    this.err = err;
  }

  /**
   * Makes the runs.
   *
   * @return their reports
   * @throws IllegalArgumentException if the guest refused its options (exit code 2)
   * @throws IllegalStateException if a child died, did not start in time, or the migration failed
   */
  public MigrateResult run() throws IOException, InterruptedException {
    Optional<MigrationReport> with = Optional.empty();
    Optional<MigrationReport> without = Optional.empty();
    if (opts.hinting().withHints()) {
      with = Optional.of(once(false));
    }
    if (opts.hinting().withoutHints()) {
      without = Optional.of(once(true));
    }
    return new MigrateResult(opts, with, without);
  }

  private MigrationReport once(boolean noHints) throws IOException, InterruptedException {
    String label = noHints ? "without hints" : "with hints";
    return new LabSession("migrate", err).run(
        (dir, children) -> migrateIn(dir, children, noHints, label),
        r -> opts.pair().keepLogs());
  }

  private MigrationReport migrateIn(LabDir dir, LabChildren children, boolean noHints,
      String label) throws IOException, InterruptedException {
    PairOptions pair = opts.pair();
    try (LabHost host = LabHost.start(commands, dir, pair.transport(), pair.mode(),
        opts.serveArgs(), children)) {
      status(label, "host ready on %s (pid %d, log %s)", host.address(), host.process().pid(),
          host.process().log());
      ChildProcess guest = children.add(ChildProcess.start("guest",
          commands.guestRun(pair.guestRunArgs(host.guestAddress())), dir.resolve("guest.log"),
          dir.resolve("guest-stdout.log")));
      PairControl control = new PairControl(host.channel().channel());
      String guestId = PairRun.awaitAttach(control, host, guest);
      status(label, "guest %s attached (pid %d, log %s); migrating in %d s", guestId,
          guest.pid(), guest.log(), opts.migrateAfterSeconds());
      holdFor(Duration.ofSeconds(opts.migrateAfterSeconds()), host.process(), guest);
      status(label, "migrating at %s, at most %d rounds, downtime target %d ms, %s%s",
          MigrateReport.rate(opts.bandwidth().bytesPerSecond()), opts.maxRounds(),
          opts.downtimeLimitMs(), opts.guards(), opts.hintDelayMs() == 0 ? ""
              : ", hint requests delayed " + opts.hintDelayMs() + " ms");
      MigrationReport report = new MigrateCall(host.channel().channel()).run(
          opts.request(guestId, noHints), opts.callDeadline(), p -> progress(label, p),
          host.process(), guest);
      status(label, "migrated in %d round(s) + stop-and-copy; %d corrupted page(s)",
          report.getRounds(), report.getCorruptedPages());
      detach(guest);
      return report;
    }
  }

  /** Lets the workload run, checking both processes every poll. */
  private static void holdFor(Duration wait, ChildProcess host, ChildProcess guest)
      throws InterruptedException {
    long end = System.nanoTime() + wait.toNanos();
    while (System.nanoTime() - end < 0) {
      host.checkAlive();
      guest.checkAlive();
      long left = Math.max(1, (end - System.nanoTime()) / 1_000_000);
      guest.waitFor(Duration.ofMillis(Math.min(MigrateCall.POLL_MS, left)));
    }
    host.checkAlive();
    guest.checkAlive();
  }

  /** Asks the guest to detach (stdin closed), bounded; the session stops it if it does not. */
  private void detach(ChildProcess guest) throws InterruptedException {
    guest.closeStdin();
    if (guest.waitFor(DETACH_GRACE) < 0) {
      err.printf("hintlab migrate: the guest did not detach within %d s; stopping it%n",
          DETACH_GRACE.toSeconds());
    }
  }

  private void progress(String label, MigrationProgress p) {
    if (opts.pair().progress()) {
      status(label, "%s round %d: %s sent, %d pages left to send, %d skipped thanks to hints",
          p.getPhase().toLowerCase(Locale.ROOT), p.getRound(), ByteSizes.human(p.getBytesSent()),
          p.getRemainingPages(), p.getPagesSkippedByHints());
    }
  }

  private void status(String label, String format, Object... args) {
    err.printf(Locale.ROOT, "hintlab migrate (%s): %s%n", label, String.format(Locale.ROOT,
        format, args));
    err.flush();
  }
}
