package io.hintlab.host.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.hintlab.host.device.HostMode;
import java.util.List;
import org.junit.jupiter.api.Test;

class PairOptionsTest {

  private static PairOptions with(long memory, long seconds, List<String> guestArgs) {
    return new PairOptions(memory, "idle", "page-reporting", 7, seconds, Transport.UNIX,
        HostMode.DISCARD, guestArgs, BalloonSchedule.none(), HintPlan.none(), false, false);
  }

  @Test
  void guestRunGetsThePairsOptionsThenThePassThroughArguments() {
    PairOptions o = with(256L << 20, 8, List.of("--delay=100ms", "--cpus", "4"));
    assertEquals(List.of("--host", "unix:/d/host.sock", "--memory", "256M", "--workload", "idle",
        "--strategy", "page-reporting", "--seed", "7", "--seconds", "8", "--name",
        "hintlab-pair", "--json", "--delay=100ms", "--cpus", "4"),
        o.guestRunArgs("unix:/d/host.sock"));
  }

  @Test
  void aPassThroughOfAnOptionThePairSetsIsRefusedNamingIt() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> with(1L << 30, 8, List.of("--memory=2G")));
    assertEquals("--guest-arg --memory=2G: pair sets --memory itself; use pair's own --memory",
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> with(1L << 30, 8, List.of("--json")));
    assertEquals("--guest-arg --json: pair sets --json itself", e.getMessage());
  }

  @Test
  void memoryMustBeWholePagesAndSecondsInRange() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> with(4097, 8, List.of()));
    assertEquals("--memory must be a positive multiple of 4096 bytes, got 4097", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> with(1L << 30, 0, List.of()));
    assertEquals("--seconds must be in [1, 1000000], got 0", e.getMessage());
  }

  @Test
  void namesMustBeNamesNotOptions() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new PairOptions(1L << 30, "--json", "page-reporting", 1, 8, Transport.TCP,
            HostMode.DISCARD, List.of(), BalloonSchedule.none(), HintPlan.none(), false, false));
    assertEquals("--workload needs a name, got '--json'", e.getMessage());
  }

  @Test
  void hintAllocHoldDefaultsToDiscardHintsAndRoundsAndBalloonWorkloadToASchedule() {
    assertEquals(HostMode.DISCARD_HINTS, PairOptions.defaultMode("hint-alloc-hold"));
    assertEquals(HostMode.DISCARD, PairOptions.defaultMode("page-reporting"));
    assertEquals(new HintPlan(10, 5), PairOptions.defaultHints("hint-alloc-hold"));
    assertEquals(HintPlan.none(), PairOptions.defaultHints("page-reporting"));
    assertEquals("10=25%,20=50%,30=0%", PairOptions.defaultBalloon("balloon", 40).toString());
    assertEquals(BalloonSchedule.none(), PairOptions.defaultBalloon("idle", 40));
  }

  @Test
  void transportParsesUnixAndTcpOnly() {
    assertEquals(Transport.TCP, Transport.parse("TCP"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Transport.parse("vsock"));
    assertEquals("--transport must be unix or tcp, got 'vsock'", e.getMessage());
  }
}
