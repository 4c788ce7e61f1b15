package io.hintlab.host.cli;

import io.hintlab.host.device.HostMode;
import io.hintlab.host.lab.BalloonSchedule;
import io.hintlab.host.lab.ByteSizes;
import io.hintlab.host.lab.HintPlan;
import io.hintlab.host.lab.LabCommands;
import io.hintlab.host.lab.PairOptions;
import io.hintlab.host.lab.PairResult;
import io.hintlab.host.lab.PairRun;
import io.hintlab.host.lab.Transport;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hintlab pair}: a host and a guest as separate processes on a private socket, one
 * scenario, then the summary ({@link PairRun}). Exit code 0 on success, 1 when the guest failed
 * or a child died, 2 on bad options (checked before anything starts; options the guest owns are
 * checked by the guest, whose refusal also ends in 2).
 */
@Command(name = "pair", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
      "Start a host (host serve) and a guest (guest run) as separate processes on a private "
          + "Unix socket (or loopback TCP), run one scenario while sampling the host's view of "
          + "the guest's RAM every 100 ms, stop both and print a summary: host RSS (the guest "
          + "RAM file's allocated blocks, st_blocks x 512) at its peak and at the last sample "
          + "while the guest was attached, bytes reported, refaults, races, lost writes and "
          + "invariant violations."})
final class PairCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--memory", paramLabel = "SIZE", defaultValue = "1G",
      description = "Guest RAM: bytes or 1G, 512M, 1GiB... (default: ${DEFAULT-VALUE}).")
  String memory;

  @Option(names = "--workload", paramLabel = "NAME", defaultValue = "idle",
      description = "The guest's workload, as guest run takes it (default: ${DEFAULT-VALUE}).")
  String workload;

  @Option(names = "--strategy", paramLabel = "NAME", defaultValue = "page-reporting",
      description = "The guest's reporting strategy, as guest run takes it "
          + "(default: ${DEFAULT-VALUE}).")
  String strategy;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
      description = "Seed of the workload (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--seconds", paramLabel = "S", defaultValue = "30",
      description = "How long the guest runs (default: ${DEFAULT-VALUE}).")
  long seconds;

  @Option(names = "--transport", paramLabel = "KIND", defaultValue = "unix",
      description = "unix (a socket in a private 0700 directory) or tcp (127.0.0.1, a port the "
          + "kernel picks) (default: ${DEFAULT-VALUE}).")
  String transport;

  @Option(names = "--mode", paramLabel = "MODE",
      description = "Host mode: discard, migrate, discard-hints, discard-hints-paused, "
          + "hint-wait-ack (default: discard; discard-hints for strategy hint-alloc-hold).")
  String mode;

  @Option(names = "--guest-arg", paramLabel = "ARG",
      description = "An argument passed through to guest run, e.g. --guest-arg=--delay=100ms "
          + "(repeatable; see ./hintlab guest run --help).")
  List<String> guestArgs = new ArrayList<>();

  @Option(names = "--balloon-schedule", paramLabel = "STEPS", split = ",",
      description = "Balloon targets set during the run, SECONDS=SIZE or SECONDS=PERCENT%%, "
          + "seconds after the guest attached, e.g. 10=256M,20=50%%,30=0; none for no steps "
          + "(default: none; for workload balloon a quarter, half, then 0 at 1/4, 1/2, 3/4 of "
          + "the run).")
  List<String> balloonSchedule;

  @Option(names = "--hint-every", paramLabel = "S",
      description = "Start a free page hinting round (StartHinting) every S seconds; 0: none "
          + "(default: none; 10 for strategy hint-alloc-hold).")
  Long hintEvery;

  @Option(names = "--hint-hold", paramLabel = "S",
      description = "End each round with StopHinting(done) S seconds after its start "
          + "(default: half of --hint-every; 5 for strategy hint-alloc-hold).")
  Long hintHold;

  @Option(names = "--json", description = "Print one JSON object instead of the table.")
  boolean json;

  @Option(names = "--progress", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Draw a progress bar on stderr (default: on).")
  boolean progress;

  @Option(names = "--keep-logs",
      description = "Keep the lab directory's logs after a successful run (a failed run "
          + "always keeps them).")
  boolean keepLogs;

  @Override
  public Integer call() throws Exception {
    PairOptions opts = options();
    LabCommands commands = LabCommands.fromEnvironment(System.getenv());
    PairResult r = new PairRun(opts, commands, System.err, "pair").run();
    PairOutput.print(r, json, List.of(), System.out);
    r.problem().ifPresent(p -> System.err.println("hintlab pair: " + p));
    return r.exitCode();
  }

  /**
   * Checks every option and builds the scenario.
   *
   * @throws IllegalArgumentException naming the first bad option
   */
  PairOptions options() {
    long bytes;
    try {
      bytes = ByteSizes.parse(memory);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--memory: " + e.getMessage(), e);
    }
    Transport t = Transport.parse(transport);
    HostMode m;
    try {
      m = mode == null ? PairOptions.defaultMode(strategy) : HostMode.parse(mode);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--mode: " + e.getMessage(), e);
    }
    return new PairOptions(bytes, workload, strategy, seed, seconds, t, m, guestArgs,
        balloon(), hints(), progress, keepLogs);
  }

  private BalloonSchedule balloon() {
    if (balloonSchedule == null) {
      return PairOptions.defaultBalloon(workload, Math.max(1, seconds));
    }
    if (balloonSchedule.size() == 1 && balloonSchedule.getFirst().strip().equals("none")) {
      return BalloonSchedule.none();
    }
    return BalloonSchedule.parse(balloonSchedule);
  }

  private HintPlan hints() {
    HintPlan dflt = PairOptions.defaultHints(strategy);
    if (hintEvery == null && hintHold == null) {
      return dflt;
    }
    if (hintEvery == null && !dflt.enabled()) {
      throw new IllegalArgumentException("--hint-hold needs --hint-every");
    }
    long every = hintEvery != null ? hintEvery : dflt.everySeconds();
    if (every == 0) {
      if (hintHold != null) {
        throw new IllegalArgumentException("--hint-hold needs --hint-every above 0");
      }
      return HintPlan.none();
    }
    return new HintPlan(every, hintHold != null ? hintHold : every / 2);
  }
}
