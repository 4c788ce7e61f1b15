package io.hintlab.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.host.device.HostMode;
import io.hintlab.host.lab.HintPlan;
import io.hintlab.host.lab.PairOptions;
import io.hintlab.host.lab.Transport;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code hintlab pair}'s options: defaults and bad input, checked before anything starts. */
class PairCommandTest {
  private record Run(int code, String err) {}

  private static Run run(String... args) {
    CommandLine cl = HostMain.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err));
    return new Run(cl.execute(args), err.toString());
  }

  private static PairOptions options(String... args) {
    PairCommand c = new PairCommand();
    new CommandLine(c).parseArgs(args);
    return c.options();
  }

  @Test
  void badOptionsExitWith2AndOneLineNamingTheOption() {
    String[][] cases = {
      {"--transport", "vsock", "--transport must be unix or tcp, got 'vsock'"},
      {"--memory", "1GB", "--memory: '1GB' is not a size"},
      {"--mode", "bogus", "--mode: unknown host mode 'bogus'"},
      {"--seconds", "0", "--seconds must be in [1, 1000000], got 0"},
      {"--balloon-schedule", "5=200%", "--balloon-schedule: '5=200%': a percentage"},
      {"--guest-arg=--name=g1", null, "--guest-arg --name=g1: pair sets --name itself"},
      {"--guest-arg=--seconds=9", null, "Expected parameter for option '--guest-arg'"},
      {"--hint-hold", "3", "--hint-hold needs --hint-every"},
      {"--hint-every", "4", "--hint-hold", "4", "--hint-hold must be at least 1 and less than"},
    };
    for (String[] c : cases) {
      List<String> args = new ArrayList<>(List.of("pair"));
      for (int i = 0; i < c.length - 1; i++) {
        if (c[i] != null) {
          args.add(c[i]);
        }
      }
      Run r = run(args.toArray(String[]::new));
      String expected = c[c.length - 1];
      assertEquals(2, r.code(), args + ": " + r.err());
      // picocli's own parse errors come without the "hintlab pair: " prefix
      assertTrue(r.err().startsWith("hintlab pair: " + expected) || r.err().startsWith(expected),
          args + ": " + r.err());
      assertFalse(r.err().contains("\tat "), "no stack trace");
    }
  }

  @Test
  void anUnknownOptionIsAUsageErrorWith2() {
    Run r = run("pair", "--memroy", "1G");
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("Unknown options: '--memroy'"), r.err());
  }

  @Test
  void helpOfPairAndDemoRendersWithoutPicocliFormatWarnings() {
    PrintStream saved = System.err;
    ByteArrayOutputStream warnings = new ByteArrayOutputStream();
    System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
    String pair;
    String demo;
    try {
      CommandLine cl = HostMain.commandLine();
      pair = cl.getSubcommands().get("pair").getUsageMessage();
      demo = cl.getSubcommands().get("demo").getUsageMessage();
    } finally {
      System.setErr(saved);
    }
    assertEquals("", warnings.toString(StandardCharsets.UTF_8), "a '%' not written as '%%'");
    assertTrue(pair.contains("SECONDS=PERCENT%, seconds after"), pair);
    assertTrue(demo.contains("writes 30% of the memory"), demo);
  }

  @Test
  void defaultsAreTheIssuesScenario() {
    PairOptions o = options();
    assertEquals(1L << 30, o.memoryBytes());
    assertEquals("idle", o.workload());
    assertEquals("page-reporting", o.strategy());
    assertEquals(1, o.seed());
    assertEquals(Transport.UNIX, o.transport());
    assertEquals(HostMode.DISCARD, o.mode());
    assertEquals(HintPlan.none(), o.hints());
    assertTrue(o.balloon().steps().isEmpty());
    assertTrue(o.progress());
    assertFalse(o.keepLogs());
  }

  @Test
  void hintAllocHoldGetsDiscardHintsAndRoundsUnlessTold() {
    PairOptions o = options("--strategy", "hint-alloc-hold");
    assertEquals(HostMode.DISCARD_HINTS, o.mode());
    assertEquals(new HintPlan(10, 5), o.hints());
    o = options("--strategy", "hint-alloc-hold", "--mode", "discard", "--hint-every", "0");
    assertEquals(HostMode.DISCARD, o.mode());
    assertEquals(HintPlan.none(), o.hints());
    assertEquals(new HintPlan(8, 4), options("--hint-every", "8").hints());
  }

  @Test
  void balloonWorkloadGetsItsScheduleUnlessNone() {
    assertEquals("15=25%,30=50%,45=0%",
        options("--workload", "balloon", "--seconds", "60").balloon().toString());
    assertTrue(options("--workload", "balloon", "--balloon-schedule", "none").balloon().steps()
        .isEmpty());
    assertEquals("2=64M,4=0",
        options("--balloon-schedule", "2=64M,4=0", "--seconds", "8").balloon().toString());
  }

  @Test
  void guestArgumentsPassThroughInOrder() {
    PairOptions o = options("--guest-arg=--delay=100ms", "--guest-arg", "--cpus",
        "--guest-arg", "4", "--no-progress", "--keep-logs");
    assertEquals(List.of("--delay=100ms", "--cpus", "4"), o.guestArgs());
    assertFalse(o.progress());
    assertTrue(o.keepLogs());
  }
}
