package io.hintlab.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.host.device.HostMode;
import io.hintlab.host.lab.MigrateHinting;
import io.hintlab.host.lab.MigrateOptions;
import io.hintlab.host.migration.GuardSwitches;
import io.hintlab.host.migration.MigrationOptions;
import io.hintlab.proto.v1.MigrateRequest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code hintlab migrate}'s options: defaults, the request they make, and bad input. */
class MigrateCommandTest {
  private record Run(int code, String err) {}

  private static Run run(String... args) {
    CommandLine cl = HostMain.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err));
    return new Run(cl.execute(args), err.toString());
  }

  private static MigrateOptions options(String... args) {
    MigrateCommand c = new MigrateCommand();
    new CommandLine(c).parseArgs(args);
    return c.options();
  }

  @Test
  void defaultsAreHintAllocHoldOnMemhogInModeMigrateWithQemusDowntimeAndHintsOn() {
    MigrateOptions o = options("--bandwidth", "10Gbit");
    assertEquals("hint-alloc-hold", o.pair().strategy());
    assertEquals("memhog", o.pair().workload());
    assertEquals(HostMode.MIGRATE, o.pair().mode());
    assertFalse(o.pair().hints().enabled(), "the migration drives hinting, not the pair");
    assertTrue(o.pair().balloon().steps().isEmpty());
    assertEquals(MigrateHinting.ON, o.hinting());
    assertEquals(1_250_000_000L, o.bandwidth().bytesPerSecond());
    assertEquals(MigrationOptions.DEFAULT_DOWNTIME_LIMIT_MS, o.downtimeLimitMs());
    assertEquals(MigrationOptions.DEFAULT_MAX_ROUNDS, o.maxRounds());
    assertEquals(MigrateOptions.DEFAULT_MIGRATE_AFTER_SECONDS, o.migrateAfterSeconds());
    assertTrue(o.guards().allOn());
    assertEquals(0, o.hintDelayMs());
    assertEquals(List.of(), o.serveArgs(), "the host takes hints at once by default");
  }

  @Test
  void aHintDelayGoesToTheHostsCommandLine() {
    MigrateOptions o = options("--bandwidth", "1GiB/s", "--hint-delay-ms", "20");
    assertEquals(20, o.hintDelayMs());
    assertEquals(List.of("--hint-delay-ms=20"), o.serveArgs());
  }

  @Test
  void theRequestCarriesEveryKnobAndNoHintsOnlyForTheRunWithout() {
    MigrateOptions o = options("--bandwidth", "1GiB/s", "--max-rounds", "7", "--downtime-ms",
        "0", "--guard-off", "accept-stale-ids", "--guard-off", "no-stop-before-sync",
        "--hinting", "compare");
    MigrateRequest with = o.request("guest-3", false);
    assertEquals("guest-3", with.getGuestId());
    assertEquals("1073741824B/s", with.getBandwidth());
    assertEquals(7, with.getMaxRounds());
    assertTrue(with.hasDowntimeLimitMs(), "0 is sent, not left to the host's default");
    assertEquals(0, with.getDowntimeLimitMs());
    assertEquals(List.of(GuardSwitches.ACCEPT_STALE_IDS, GuardSwitches.NO_STOP_BEFORE_SYNC),
        with.getGuardsOffList());
    assertFalse(with.getNoHints());
    assertTrue(o.request("guest-3", true).getNoHints());
    assertEquals("unlimited", options("--bandwidth", "unlimited").request("g", false)
        .getBandwidth());
  }

  @Test
  void theGuestLivesThroughTheWholeMigrationDeadlineAndIdlesAfterOneRound() {
    MigrateOptions o = options("--memory", "256M", "--bandwidth", "100MiB/s", "--max-rounds",
        "4", "--migrate-after", "5");
    // worst case: 5 rounds (4 + stop-and-copy) of 256 MiB at 100 MiB/s, 3 s each, + 120 s
    assertEquals(135, o.callDeadline().toSeconds());
    long guestSeconds = o.pair().seconds();
    assertTrue(guestSeconds >= 5 + 135 + 60, "attach + wait + deadline: " + guestSeconds);
    assertTrue(o.pair().guestArgs().contains("--idle-seconds=" + guestSeconds),
        o.pair().guestArgs().toString());
    List<String> args = o.pair().guestRunArgs("unix:/x");
    assertEquals(Long.toString(guestSeconds), args.get(args.indexOf("--seconds") + 1));
  }

  @Test
  void anIdleSecondsOfTheUsersOwnIsKept() {
    MigrateOptions o = options("--bandwidth", "unlimited", "--guest-arg=--idle-seconds=3");
    assertEquals(1, o.pair().guestArgs().stream().filter(a -> a.startsWith("--idle-seconds"))
        .count(), o.pair().guestArgs().toString());
    assertEquals(MigrateOptions.DEFAULT_MIGRATE_AFTER_SECONDS + 60 + 120 + 30,
        o.pair().seconds(), "unlimited: only the slack bounds the call");
  }

  @Test
  void badOptionsExitWith2AndOneLineNamingTheOptionBeforeAnythingStarts() {
    String[][] cases = {
      {"--bandwidth", "fast", "--bandwidth: bad bandwidth 'fast'"},
      {"--bandwidth", "0MiB/s", "--bandwidth: bad bandwidth '0MiB/s': must be at least"},
      {"--max-rounds", "0", "--max-rounds must be in [1, 100000], got 0"},
      {"--downtime-ms", "-1", "--downtime-ms must be in [0, 2000000], got -1"},
      {"--hinting", "maybe", "--hinting must be on, off or compare, got 'maybe'"},
      {"--guard-off", "seatbelt", "--guard-off: unknown guard switch 'seatbelt'"},
      {"--hinting", "off", "--guard-off", "accept-stale-ids", "--guard-off needs hints"},
      {"--migrate-after", "-1", "--migrate-after must be in [0, 86400] seconds, got -1"},
      {"--hint-delay-ms", "1001", "--hint-delay-ms must be in [0, 1000], got 1001"},
      {"--hinting", "off", "--hint-delay-ms", "5", "--hint-delay-ms needs hints"},
      {"--memory", "1GB", "--memory: '1GB' is not a size"},
      {"--transport", "vsock", "--transport must be unix or tcp, got 'vsock'"},
      {"--guest-arg=--seconds=9", "--guest-arg --seconds=9: migrate sets the guest's --seconds"},
      {"--guest-arg=--name=g", "--guest-arg --name=g: pair sets --name itself"},
      {"--bandwidth", "8bit", "--max-rounds", "10",
        "--bandwidth 1 B/s with --max-rounds 10 bounds the migration at"},
    };
    for (String[] c : cases) {
      List<String> args = new ArrayList<>(List.of("migrate"));
      args.addAll(List.of(c).subList(0, c.length - 1));
      if (!args.contains("--bandwidth")) {
        args.addAll(List.of("--bandwidth", "1GiB/s"));
      }
      Run r = run(args.toArray(String[]::new));
      assertEquals(2, r.code(), args + ": " + r.err());
      assertTrue(r.err().startsWith("hintlab migrate: " + c[c.length - 1]), args + ": " + r.err());
      assertEquals(1, r.err().lines().count(), "one line: " + r.err());
    }
  }

  @Test
  void withoutBandwidthPicocliNamesTheMissingOption() {
    Run r = run("migrate");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("Missing required option: '--bandwidth=RATE'"), r.err());
  }
}
