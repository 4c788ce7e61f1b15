package io.hintlab.guest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.reporting.ReportingOptions;
import io.hintlab.guest.run.RunOptions;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * {@code guest run}'s option checks: every bad option is exit code 2 with one line on stderr
 * naming it, before anything connects; a host that is not there is exit code 1 with one line.
 */
class RunCommandTest {
  @TempDir Path dir;

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource(delimiter = '|', value = {
    "--host|tcp-nowhere|--host",
    "--host|example.com:80|--host",
    "--strategy|nope|--strategy",
    "--workload|nope|--workload",
    "--memory|12345|--memory",
    "--memory|1M|--memory",
    "--memory|lots|--memory",
    "--cpus|0|--cpus",
    "--ops|-1|--ops",
    "--seconds|0|--seconds",
    "--idle-seconds|-1|--idle-seconds",
    "--report-order|-2|--report-order",
    "--report-order|11|order",
    "--capacity|3|--capacity",
    "--capacity|2048|--capacity",
    "--delay|5|--delay",
    "--delay|2h|--delay",
    "--budget-divisor|-1|--budget-divisor",
    "--reconnect|0|--reconnect",
    "--workload-arg|bytes=1M|--workload-arg",
    "--name|' '|--name",
    "--stats-interval|10|--stats-interval",
    "--stats-interval|-1s|--stats-interval",
    "--batch-size|0|--batch-size",
    "--batch-size|1025|--batch-size",
    "--cursor|sideways|--cursor",
    "--isolation-cpu|2|--isolation-cpu",
    "--isolation-cpu|-1|--isolation-cpu",
    "--resident|-1|--resident",
    "--resident|lots|--resident",
    "--resident|128M|--resident",
    "--resident|1G|--resident",
    "--step-rate|-5|--step-rate",
    "--step-rate|fast|--step-rate",
    "--free-page-vq-size|1|--free-page-vq-size",
    "--free-page-vq-size|many|--free-page-vq-size",
  })
  void badOptionIsExitCodeTwoWithOneLineNamingIt(String option, String value, String named) {
    String host = "unix:" + dir.resolve("absent.sock");
    Cli.Run r = option.equals("--host")
        ? Cli.run("run", "--host", value, "--exit-on-host-loss")
        : Cli.run("run", "--host", host, "--exit-on-host-loss", "--memory", "128M", option,
            value);
    assertEquals(2, r.code(), r.err());
    assertEquals("", r.out());
    String line = r.err().strip();
    assertEquals(1, line.lines().count(), "one line: " + r.err());
    assertTrue(line.startsWith("hintlab guest run: "), line);
    assertTrue(line.contains(named), "names " + named + ": " + line);
  }

  @Test
  void reconnectAndExitOnHostLossAreExclusive() {
    Cli.Run r = Cli.run("run", "--host", "unix:" + dir.resolve("h.sock"), "--reconnect", "3",
        "--exit-on-host-loss");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--reconnect and --exit-on-host-loss"), r.err());
  }

  @Test
  void missingHostIsExitCodeTwo() {
    Cli.Run r = Cli.run("run", "--workload", "idle");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--host"), r.err());
  }

  @Test
  void delayTakesMillisecondsOrSeconds() {
    assertEquals(Duration.ofMillis(100), RunCommand.parseDelay("100ms"));
    assertEquals(Duration.ofSeconds(2), RunCommand.parseDelay("2s"));
  }

  @Test
  void shouldPassEveryStrategyParameterToTheReportingOptions() throws Exception {
    RunOptions o = options("--host", "unix:" + dir.resolve("h.sock"), "--report-order", "8",
        "--capacity", "64", "--delay", "300ms", "--budget-divisor", "4", "--batch-size", "8",
        "--cursor", "original", "--isolation-cpu", "0");
    ReportingOptions r = o.reporting();
    assertEquals(8, r.order());
    assertEquals(64, r.capacity());
    assertEquals(Duration.ofMillis(300), r.delay());
    assertEquals(4, r.budgetDivisor());
    assertEquals(8, r.batchSize());
    assertEquals(ReportingOptions.Cursor.ORIGINAL, r.cursor());
    assertEquals(0, r.isolationCpu());
    ReportingOptions d = options("--host", "unix:" + dir.resolve("h.sock")).reporting();
    assertEquals(ReportingOptions.DEFAULT_BATCH_SIZE, d.batchSize());
    assertEquals(ReportingOptions.Cursor.PROGRESS, d.cursor());
    assertEquals(ReportingOptions.CPU_UNSPECIFIED, d.isolationCpu());
  }

  @Test
  void shouldNegotiateStatsAndDeflateOnOomByDefaultAsTheLinuxDriverDoes() throws Exception {
    RunOptions o = options("--host", "unix:" + dir.resolve("h.sock"));
    assertEquals(Duration.ofSeconds(10), o.statsInterval());
    assertTrue(o.deflateOnOom());
    assertEquals(ReportingOptions.PAGE_REPORTING_DELAY, o.reporting().delay());
  }

  @Test
  void shouldTurnStatsAndDeflateOnOomOffWhenAskedTo() throws Exception {
    RunOptions o = options("--host", "unix:" + dir.resolve("h.sock"), "--stats-interval", "0",
        "--no-deflate-on-oom");
    assertEquals(Duration.ZERO, o.statsInterval());
    assertFalse(o.deflateOnOom());
    assertEquals(Duration.ofMillis(500),
        options("--host", "unix:" + dir.resolve("h.sock"), "--stats-interval", "500ms")
            .statsInterval());
  }

  @Test
  void shouldGiveHintAllocHoldNoDelayUnlessOneIsSet() throws Exception {
    String host = "unix:" + dir.resolve("h.sock");
    assertEquals(Duration.ZERO,
        options("--host", host, "--strategy", "hint-alloc-hold").reporting().delay());
    assertEquals(Duration.ofMillis(50), options("--host", host, "--strategy", "hint-alloc-hold",
        "--delay", "50ms").reporting().delay());
  }

  @Test
  void shouldZeroOnAllocationByDefaultAsDebiansKernelsDo() throws Exception {
    String host = "unix:" + dir.resolve("h.sock");
    assertTrue(options("--host", host).initOnAlloc());
    assertFalse(options("--host", host, "--no-init-on-alloc").initOnAlloc());
    assertFalse(options("--host", host).hintQueue());
  }

  @Test
  void shouldPutFreeListWalkOnTheHintQueueWithNoDelayUnlessOneIsSet() throws Exception {
    String host = "unix:" + dir.resolve("h.sock");
    RunOptions o = options("--host", host, "--strategy", "free-list-walk", "--hint-queue");
    assertTrue(o.hintQueue());
    assertEquals(Duration.ZERO, o.reporting().delay());
    assertEquals(Duration.ofMillis(70), options("--host", host, "--strategy", "free-list-walk",
        "--hint-queue", "--delay", "70ms").reporting().delay());
    assertEquals(ReportingOptions.PAGE_REPORTING_DELAY,
        options("--host", host, "--strategy", "free-list-walk").reporting().delay());
  }

  @ParameterizedTest(name = "--strategy {0}")
  @CsvSource({"page-reporting", "hint-alloc-hold", "bitmap-hinting", "isolate-report"})
  void hintQueueWithAnotherStrategyIsExitCodeTwoNamingIt(String strategy) {
    Cli.Run r = Cli.run("run", "--host", "unix:" + dir.resolve("absent.sock"),
        "--exit-on-host-loss", "--memory", "128M", "--strategy", strategy, "--hint-queue");
    assertEquals(2, r.code(), r.err());
    assertEquals("", r.out());
    assertEquals("hintlab guest run: --hint-queue is for free-list-walk only (hint-alloc-hold"
        + " always hints through the free page hint queue), not " + strategy, r.err().strip());
  }

  @Test
  void residentTakesASizeAndDefaultsToNothing() throws Exception {
    String host = "unix:" + dir.resolve("h.sock");
    assertEquals(16L << 20, options("--host", host, "--resident", "16M").residentBytes());
    assertEquals(400L << 20, options("--host", host, "--memory", "4G", "--resident", "400MiB")
        .residentBytes());
    assertEquals(0, options("--host", host).residentBytes());
    assertEquals(0, options("--host", host, "--resident", "0").residentBytes());
    assertEquals(0, options("--host", host, "--resident", "0M").residentBytes());
  }

  @Test
  void stepRateAndFreePageVqSizeAreParsedWithQemusRingByDefault() throws Exception {
    String host = "unix:" + dir.resolve("h.sock");
    RunOptions dflt = options("--host", host);
    assertEquals(0, dflt.stepRate());
    assertEquals(1024, dflt.freePageVqSize());
    RunOptions set = options("--host", host, "--strategy", "hint-alloc-hold", "--step-rate",
        "20000", "--free-page-vq-size", "256");
    assertEquals(20000, set.stepRate());
    assertEquals(256, set.freePageVqSize());
  }

  @Test
  void residentAsLargeAsTheMemoryIsExitCodeTwoSayingBoth() {
    Cli.Run r = Cli.run("run", "--host", "unix:" + dir.resolve("absent.sock"),
        "--exit-on-host-loss", "--memory", "128M", "--resident", "200M");
    assertEquals(2, r.code(), r.err());
    assertEquals("", r.out());
    assertEquals("hintlab guest run: --resident must be less than --memory (128M), got 200M",
        r.err().strip());
  }

  @Test
  void helpShouldExplainTheBalloonOptions() {
    Cli.Run r = Cli.run("run", "--help");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("--stats-interval=DURATION"), r.out());
    assertTrue(r.out().contains("--[no-]deflate-on-oom"), r.out());
    assertTrue(r.out().contains("hint-alloc-hold"), r.out());
    assertTrue(r.out().contains("balloon"), r.out());
    assertTrue(r.out().contains("--[no-]init-on-alloc"), r.out());
    assertTrue(r.out().contains("--hint-queue"), r.out());
    assertTrue(r.out().contains("--resident=SIZE"), r.out());
    assertTrue(r.out().contains("page cache"), r.out());
    assertTrue(r.out().contains("--step-rate=N"), r.out());
    assertTrue(r.out().contains("--free-page-vq-size=N"), r.out());
  }

  private static RunOptions options(String... args) throws Exception {
    RunCommand c = new RunCommand();
    new CommandLine(c).parseArgs(args);
    return c.options();
  }

  @Test
  void absentHostWithExitOnHostLossIsExitCodeOneWithOneLine() {
    Cli.Run r = Cli.run("run", "--host", "unix:" + dir.resolve("absent.sock"),
        "--exit-on-host-loss", "--memory", "128M", "--json");
    assertEquals(1, r.code(), r.err());
    String line = r.err().strip();
    assertEquals(1, line.lines().count(), r.err());
    assertTrue(line.startsWith("hintlab guest run: host unix:"), line);
    assertTrue(line.contains("exiting, as the reconnect policy is exit"), line);
    assertTrue(r.out().contains("\"detached\": false"), r.out());
  }
}
