package io.hintlab.host.cli;

import io.hintlab.host.device.HostMode;
import io.hintlab.host.lab.BalloonSchedule;
import io.hintlab.host.lab.ByteSizes;
import io.hintlab.host.lab.HintPlan;
import io.hintlab.host.lab.LabCommands;
import io.hintlab.host.lab.MigrateHinting;
import io.hintlab.host.lab.MigrateOptions;
import io.hintlab.host.lab.MigrateReport;
import io.hintlab.host.lab.MigrateResult;
import io.hintlab.host.lab.MigrateRun;
import io.hintlab.host.lab.PairOptions;
import io.hintlab.host.lab.Transport;
import io.hintlab.host.migration.Bandwidth;
import io.hintlab.host.migration.GuardSwitches;
import io.hintlab.host.migration.MigrationOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hintlab migrate}: a host and a guest as separate processes; the guest runs its workload
 * while the host live-migrates it (pre-copy, with or without free page hinting), then the
 * tables or JSON ({@link MigrateRun}). Exit code 0 when every migration ran to its report
 * (corrupted pages are a result, shown in the table), 1 when a child died or a migration failed,
 * 2 on bad options (checked before anything starts; the guest's own options are checked by the
 * guest, whose refusal also ends in 2).
 */
@Command(name = "migrate", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
      "Start a host (host serve --mode migrate) and a guest (guest run) as separate processes, "
          + "let the guest's workload run for --migrate-after seconds, then live-migrate it: "
          + "pre-copy rounds over the dirty log paced at --bandwidth, free page hinting under "
          + "the host's command ids (QEMU's order), a stop-and-copy with the guest paused, and "
          + "every page the guest holds data in compared with the destination copy. Prints "
          + "rounds, bytes sent per round and in total, pages skipped thanks to hints, "
          + "simulated migration time and downtime, corrupted pages, and the race detector's "
          + "hits, misses and false alarms. --hinting compare runs a second fresh pair with the "
          + "same seed and timing, migrated without hints, and shows both side by side."})
final class MigrateCommand implements Callable<Integer> {
  @Option(names = "--memory", paramLabel = "SIZE", defaultValue = "1G",
      description = "Guest RAM: bytes or 1G, 512M, 1GiB... (default: ${DEFAULT-VALUE}).")
  String memory;

  @Option(names = "--workload", paramLabel = "NAME", defaultValue = "memhog",
      description = "The guest's workload, as guest run takes it; its parameters with "
          + "--guest-arg=--workload-arg=bytes=700M (default: ${DEFAULT-VALUE}).")
  String workload;

  @Option(names = "--strategy", paramLabel = "NAME", defaultValue = PairOptions.HINT_ALLOC_HOLD,
      description = "The guest's strategy, as guest run takes it; hint-alloc-hold and "
          + "free-list-walk hint under the host's command ids (default: ${DEFAULT-VALUE}).")
  String strategy;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
      description = "Seed of the workload, the same for both runs of compare "
          + "(default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--transport", paramLabel = "KIND", defaultValue = "unix",
      description = "unix (a socket in a private 0700 directory) or tcp (127.0.0.1, a port the "
          + "kernel picks) (default: ${DEFAULT-VALUE}).")
  String transport;

  @Option(names = "--guest-arg", paramLabel = "ARG",
      description = "An argument passed through to guest run, e.g. "
          + "--guest-arg=--workload-arg=bytes=700M (repeatable; migrate sets --seconds itself, "
          + "and --idle-seconds unless given here, so the workload runs one round and idles).")
  List<String> guestArgs = new ArrayList<>();

  @Option(names = "--bandwidth", paramLabel = "RATE", required = true,
      description = "Link rate: 10Gbit, 1GiB/s, 100MiB/s, 500MB/s... or unlimited.")
  String bandwidth;

  @Option(names = "--max-rounds", paramLabel = "N",
      defaultValue = "" + MigrationOptions.DEFAULT_MAX_ROUNDS,
      description = "Pre-copy rounds (round 0 included) before a forced switch-over "
          + "(default: ${DEFAULT-VALUE}).")
  int maxRounds;

  @Option(names = "--downtime-ms", paramLabel = "N",
      defaultValue = "" + MigrationOptions.DEFAULT_DOWNTIME_LIMIT_MS,
      description = "Switch over once the remaining dirty pages fit this much link time; 0: "
          + "only when none is left (default: ${DEFAULT-VALUE}, QEMU's downtime-limit).")
  long downtimeMs;

  @Option(names = "--hinting", paramLabel = "on|off|compare", defaultValue = "on",
      description = "Migrate with free page hinting, without, or both on two fresh pairs with "
          + "the same seed and timing (default: ${DEFAULT-VALUE}).")
  String hinting;

  @Option(names = "--guard-off", paramLabel = "NAME",
      description = "Fault injection, repeatable: turn off one guard to see what it buys: "
          + "apply-hints-across-sync, accept-stale-ids, no-stop-before-sync.")
  List<String> guardsOff = new ArrayList<>();

  @Option(names = "--hint-delay-ms", paramLabel = "MS", defaultValue = "0",
      description = "Fault injection on the host, a busy iothread: each free page hint request "
          + "waits MS before the device takes it, so hints arrive late and the races the guards "
          + "close get wider (0 to 1000; default: ${DEFAULT-VALUE}).")
  long hintDelayMs;

  @Option(names = "--migrate-after", paramLabel = "S",
      defaultValue = "" + MigrateOptions.DEFAULT_MIGRATE_AFTER_SECONDS,
      description = "Seconds after the guest attached when the migration starts, so the "
          + "workload has touched and freed its memory (default: ${DEFAULT-VALUE}).")
  long migrateAfter;

  @Option(names = "--json", description = "Print one JSON object instead of the tables.")
  boolean json;

  @Option(names = "--progress", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Print a progress line per round on stderr (default: on).")
  boolean progress;

  @Option(names = "--keep-logs",
      description = "Keep the lab directories' logs after a successful run (a failed run "
          + "always keeps them).")
  boolean keepLogs;

  @Override
  public Integer call() throws Exception {
    MigrateOptions opts = options();
    LabCommands commands = LabCommands.fromEnvironment(System.getenv());
    MigrateResult r = new MigrateRun(opts, commands, System.err).run();
    if (json) {
      System.out.println(JsonOut.write(r.toMap()));
    } else {
      MigrateReport.table(r).forEach(System.out::println);
    }
    System.out.flush();
    return 0;
  }

  /**
   * Checks every option and builds the scenario.
   *
   * @throws IllegalArgumentException naming the first bad option
   */
  MigrateOptions options() {
    long bytes;
    try {
      bytes = ByteSizes.parse(memory);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--memory: " + e.getMessage(), e);
    }
    Transport t = Transport.parse(transport);
    Bandwidth rate;
    GuardSwitches guards;
    try {
      rate = Bandwidth.parse(bandwidth);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--bandwidth: " + e.getMessage(), e);
    }
    try {
      guards = GuardSwitches.parse(guardsOff);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--guard-off: " + e.getMessage(), e);
    }
    MigrateHinting h = MigrateHinting.parse(hinting);
    if (h == MigrateHinting.OFF && !guards.allOn()) {
      throw new IllegalArgumentException("--guard-off needs hints: the guards only matter with "
          + "--hinting on or compare");
    }
    MigrateOptions.checkGuestArgs(guestArgs);
    // seconds 1 is a placeholder: MigrateOptions.of sets the guest's lifetime
    PairOptions scenario = new PairOptions(bytes, workload, strategy, seed, 1, t,
        HostMode.MIGRATE, guestArgs, BalloonSchedule.none(), HintPlan.none(), progress,
        keepLogs);
    if (h == MigrateHinting.OFF && hintDelayMs != 0) {
      throw new IllegalArgumentException("--hint-delay-ms needs hints: it delays the free page "
          + "hint queue, used only with --hinting on or compare");
    }
    return MigrateOptions.of(scenario, rate, maxRounds, downtimeMs, h, guards, migrateAfter,
        hintDelayMs);
  }
}
