package io.hintlab.host.lab;

import io.hintlab.host.device.DeviceOptions;
import io.hintlab.host.device.HostMode;
import io.hintlab.host.migration.Bandwidth;
import io.hintlab.host.migration.GuardSwitches;
import io.hintlab.host.migration.MigrationOptions;
import io.hintlab.proto.v1.MigrateRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One {@code migrate} scenario: the pair that runs the guest (host mode {@code migrate}, no
 * balloon schedule, no hinting rounds of the pair's own: the migration drives hinting) and the
 * migration's knobs.
 *
 * <p><b>The guest's lifetime.</b> The guest must still run when the migration pauses it at the
 * switch-over, so its {@code --seconds} (which count from its start) cover the attach, the wait
 * before migrating and the whole Migrate deadline; its {@code --idle-seconds} are as long, so
 * the workload runs one round (touching and freeing its memory) and then stays idle. Once the
 * migration has reported, the run closes the guest's stdin and it detaches.
 *
 * @param pair the pair that runs the guest ({@code seconds} is the guest's lifetime above)
 * @param bandwidth the link rate ({@code --bandwidth})
 * @param maxRounds pre-copy rounds before a forced switch-over ({@code --max-rounds})
 * @param downtimeLimitMs the downtime target ({@code --downtime-ms})
 * @param hinting which runs to make ({@code --hinting})
 * @param guards the guards turned off ({@code --guard-off})
 * @param migrateAfterSeconds seconds after the guest attached when the migration starts
 * @param hintDelayMs fault injection on the host ({@code --hint-delay-ms}): each free page hint
 *     request waits this long before the device takes it; 0 for none
 */
public record MigrateOptions(
    PairOptions pair,
    Bandwidth bandwidth,
    int maxRounds,
    long downtimeLimitMs,
    MigrateHinting hinting,
    GuardSwitches guards,
    long migrateAfterSeconds,
    long hintDelayMs) {

  /**
   * Default {@code --migrate-after}: long enough for a memhog round to have touched and freed
   * its memory before the migration starts. Seen here: a 256 MiB guest had freed 180 MiB within
   * 8 s of its attach (round 0 skipped 54272 of 65536 pages thanks to hints); 15 s leaves room
   * for larger guests on a loaded 2-core machine. Not measured for 1 GiB / 700 MiB.
   */
  public static final long DEFAULT_MIGRATE_AFTER_SECONDS = 15;

  /** Migrate-deadline time beyond the link time: reading RAM, the pause, the verification. */
  static final Duration CALL_SLACK = Duration.ofSeconds(120);

  /** Guest lifetime beyond attach + wait + Migrate deadline: its detach. */
  static final Duration GUEST_SLACK = Duration.ofSeconds(30);

  /** The largest guest lifetime {@code guest run --seconds} takes. */
  static final long MAX_GUEST_SECONDS = 1_000_000;

  /**
   * Checks every value.
   *
   * @throws IllegalArgumentException naming the option that is wrong
   */
  public MigrateOptions {
    if (pair.mode() != HostMode.MIGRATE) {
      throw new IllegalArgumentException("the host must run in mode migrate, not " + pair.mode());
    }
    if (maxRounds < 1 || maxRounds > MigrationOptions.MAX_ROUNDS_LIMIT) {
      throw new IllegalArgumentException("--max-rounds must be in [1, "
          + MigrationOptions.MAX_ROUNDS_LIMIT + "], got " + maxRounds);
    }
    if (downtimeLimitMs < 0 || downtimeLimitMs > MigrationOptions.MAX_DOWNTIME_LIMIT_MS) {
      throw new IllegalArgumentException("--downtime-ms must be in [0, "
          + MigrationOptions.MAX_DOWNTIME_LIMIT_MS + "], got " + downtimeLimitMs);
    }
    if (migrateAfterSeconds < 0 || migrateAfterSeconds > 86_400) {
      throw new IllegalArgumentException(
          "--migrate-after must be in [0, 86400] seconds, got " + migrateAfterSeconds);
    }
    if (hintDelayMs < 0 || hintDelayMs > DeviceOptions.MAX_HINT_DELAY.toMillis()) {
      throw new IllegalArgumentException("--hint-delay-ms must be in [0, "
          + DeviceOptions.MAX_HINT_DELAY.toMillis() + "], got " + hintDelayMs);
    }
  }

  /**
   * A scenario whose guest lives long enough (see the class comment).
   *
   * @param scenario memory, workload, strategy, seed, transport, guest arguments, progress and
   *     logs of the pair; its {@code seconds}, mode, balloon and hints are replaced
   * @throws IllegalArgumentException naming the option that is wrong
   */
  public static MigrateOptions of(PairOptions scenario, Bandwidth bandwidth, int maxRounds,
      long downtimeLimitMs, MigrateHinting hinting, GuardSwitches guards,
      long migrateAfterSeconds, long hintDelayMs) {
    checkGuestArgs(scenario.guestArgs());
    MigrateOptions probe = new MigrateOptions(scenario.withMigrateMode(1, scenario.guestArgs()),
        bandwidth, maxRounds, downtimeLimitMs, hinting, guards, migrateAfterSeconds, hintDelayMs);
    long seconds = probe.guestSeconds();
    if (seconds > MAX_GUEST_SECONDS) {
      throw new IllegalArgumentException("--bandwidth " + bandwidth + " with --max-rounds "
          + maxRounds + " bounds the migration at " + probe.callDeadline().toSeconds()
          + " s, too long for the guest (at most " + MAX_GUEST_SECONDS + " s)");
    }
    List<String> args = new ArrayList<>(scenario.guestArgs());
    if (args.stream().noneMatch(a -> a.equals("--idle-seconds")
        || a.startsWith("--idle-seconds="))) {
      args.add("--idle-seconds=" + seconds);
    }
    return new MigrateOptions(scenario.withMigrateMode(seconds, args), bandwidth, maxRounds,
        downtimeLimitMs, hinting, guards, migrateAfterSeconds, hintDelayMs);
  }

  /**
   * Refuses a guest argument migrate sets itself and pair does not.
   *
   * @param guestArgs the {@code --guest-arg} values
   * @throws IllegalArgumentException naming the argument
   */
  public static void checkGuestArgs(List<String> guestArgs) {
    for (String a : guestArgs) {
      if (a.equals("--seconds") || a.startsWith("--seconds=")) {
        throw new IllegalArgumentException("--guest-arg " + a + ": migrate sets the guest's "
            + "--seconds itself (it runs until the migration ends); see --migrate-after");
      }
    }
  }

  /**
   * The Migrate call's deadline: every round (the stop-and-copy included) sending the whole RAM
   * at the bandwidth, the worst case, plus {@link #CALL_SLACK}. An idle guest's later rounds
   * are small, so a real migration ends far sooner; the deadline only bounds a hung one.
   */
  public Duration callDeadline() {
    long linkSeconds = 0;
    if (!bandwidth.unlimited()) {
      long perRound = (pair.memoryBytes() + bandwidth.bytesPerSecond() - 1)
          / bandwidth.bytesPerSecond();
      linkSeconds = Math.multiplyExact(perRound, maxRounds + 1L);
    }
    return CALL_SLACK.plusSeconds(linkSeconds);
  }

  /** The guest's {@code --seconds}: its start and attach, the wait, the migration, a margin. */
  long guestSeconds() {
    return PairRun.ATTACH_TIMEOUT.toSeconds() + migrateAfterSeconds
        + callDeadline().toSeconds() + GUEST_SLACK.toSeconds();
  }

  /** The {@code host serve} options the scenario needs beyond the mode. */
  public List<String> serveArgs() {
    return hintDelayMs == 0 ? List.of() : List.of("--hint-delay-ms=" + hintDelayMs);
  }

  /**
   * The Migrate request for the attached guest.
   *
   * @param guestId the host's id of the guest
   * @param noHints true for the run without hints
   */
  public MigrateRequest request(String guestId, boolean noHints) {
    return MigrateRequest.newBuilder()
        .setGuestId(guestId)
        .setBandwidth(bandwidth.unlimited() ? "unlimited" : bandwidth.bytesPerSecond() + "B/s")
        .setDowntimeLimitMs(downtimeLimitMs)
        .setMaxRounds(maxRounds)
        .setNoHints(noHints)
        .addAllGuardsOff(guards.names())
        .build();
  }
}
