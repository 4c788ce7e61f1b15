package io.hintlab.host.lab;

import io.hintlab.host.device.HostMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * One pair scenario: what the guest runs, how the host treats it, and what the pair drives.
 *
 * @param memoryBytes guest RAM
 * @param workload the guest's workload name (checked by the guest)
 * @param strategy the guest's reporting strategy name (checked by the guest)
 * @param seed the workload's seed
 * @param seconds how long the guest runs
 * @param transport unix socket or loopback TCP
 * @param mode the host mode for the guest
 * @param guestArgs further {@code guest run} arguments, passed through unchanged
 * @param balloon balloon targets to set during the run
 * @param hints hinting rounds to drive during the run
 * @param progress whether to draw the progress bar on stderr
 * @param keepLogs whether to keep the lab directory's logs after a successful run
 */
public record PairOptions(
    long memoryBytes,
    String workload,
    String strategy,
    long seed,
    long seconds,
    Transport transport,
    HostMode mode,
    List<String> guestArgs,
    BalloonSchedule balloon,
    HintPlan hints,
    boolean progress,
    boolean keepLogs) {

  /** The guest's page size: memory must be a whole number of pages. */
  public static final long PAGE_BYTES = 4096;

  /** The strategy whose host mode and hinting rounds differ by default. */
  public static final String HINT_ALLOC_HOLD = "hint-alloc-hold";

  /** The workload that gets a balloon schedule by default. */
  public static final String BALLOON_WORKLOAD = "balloon";

  /** The name the guest attaches with. */
  public static final String GUEST_NAME = "hintlab-pair";

  /** {@code guest run} options the pair sets itself, so a pass-through must not repeat them. */
  static final Set<String> OWN_GUEST_OPTIONS = Set.of(
      "--host", "--memory", "--workload", "--strategy", "--seed", "--seconds", "--name",
      "--json");

  /**
   * Checks every value.
   *
   * @throws IllegalArgumentException naming the option that is wrong
   */
  public PairOptions {
    if (memoryBytes <= 0 || memoryBytes % PAGE_BYTES != 0) {
      throw new IllegalArgumentException("--memory must be a positive multiple of "
          + PAGE_BYTES + " bytes, got " + memoryBytes);
    }
    requireName(workload, "--workload");
    requireName(strategy, "--strategy");
    if (seconds < 1 || seconds > 1_000_000) {
      throw new IllegalArgumentException("--seconds must be in [1, 1000000], got " + seconds);
    }
    guestArgs = List.copyOf(guestArgs);
    for (String a : guestArgs) {
      checkGuestArg(a);
    }
    balloon.check(memoryBytes, seconds);
  }

  /** The default host mode: {@code discard-hints} for hint-alloc-hold, else {@code discard}. */
  public static HostMode defaultMode(String strategy) {
    return HINT_ALLOC_HOLD.equals(strategy) ? HostMode.DISCARD_HINTS : HostMode.DISCARD;
  }

  /** The default schedule: {@link BalloonSchedule#quarterHalfZero} for the balloon workload. */
  public static BalloonSchedule defaultBalloon(String workload, long seconds) {
    return BALLOON_WORKLOAD.equals(workload) ? BalloonSchedule.quarterHalfZero(seconds)
        : BalloonSchedule.none();
  }

  /** The default hinting: {@link HintPlan#HINT_ALLOC_HOLD_DEFAULT} for hint-alloc-hold. */
  public static HintPlan defaultHints(String strategy) {
    return HINT_ALLOC_HOLD.equals(strategy) ? HintPlan.HINT_ALLOC_HOLD_DEFAULT : HintPlan.none();
  }

  /**
   * This scenario as {@code migrate} runs it: host mode {@code migrate}, no balloon schedule and
   * no hinting rounds of the pair's own (the migration drives hinting).
   *
   * @param guestSeconds the guest's {@code --seconds}
   * @param newGuestArgs the guest arguments to pass through
   * @return the copy
   */
  public PairOptions withMigrateMode(long guestSeconds, List<String> newGuestArgs) {
    return new PairOptions(memoryBytes, workload, strategy, seed, guestSeconds, transport,
        HostMode.MIGRATE, newGuestArgs, BalloonSchedule.none(), HintPlan.none(), progress,
        keepLogs);
  }

  /**
   * The {@code guest run} arguments for a host at {@code hostAddress}.
   *
   * @param hostAddress {@code unix:PATH} or {@code 127.0.0.1:PORT}
   * @return the arguments after {@code run}
   */
  public List<String> guestRunArgs(String hostAddress) {
    List<String> a = new ArrayList<>(List.of(
        "--host", hostAddress, "--memory", ByteSizes.exact(memoryBytes),
        "--workload", workload, "--strategy", strategy, "--seed", Long.toString(seed),
        "--seconds", Long.toString(seconds), "--name", GUEST_NAME, "--json"));
    a.addAll(guestArgs);
    return List.copyOf(a);
  }

  private static void requireName(String v, String option) {
    if (v == null || v.isBlank() || !v.strip().equals(v) || v.startsWith("-")) {
      throw new IllegalArgumentException(option + " needs a name, got '" + v + "'");
    }
  }

  private static void checkGuestArg(String arg) {
    String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
    if (OWN_GUEST_OPTIONS.contains(name)) {
      throw new IllegalArgumentException("--guest-arg " + arg + ": pair sets " + name
          + " itself" + (name.equals("--name") || name.equals("--json") || name.equals("--host")
              ? "" : "; use pair's own " + name));
    }
  }
}
