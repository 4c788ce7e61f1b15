package io.hintlab.guest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The workloads with their parameters through {@code guest proc} and {@code guest sim}. */
class WorkloadCommandTest {
  private static final String TRACE =
      "# tracer: nop\n"
          + "  a-1 [000] d..1. 1.000001: mm_page_alloc: page=0 pfn=0x1000 order=0 migratetype=1"
          + " gfp_flags=GFP_HIGHUSER_MOVABLE\n"
          + "  a-1 [001] d..1. 1.000002: mm_page_alloc: page=0 pfn=0x2000 order=2 migratetype=0"
          + " gfp_flags=GFP_KERNEL\n"
          + "  a-1 [000] d..1. 1.000003: mm_page_free: page=0 pfn=0x1000 order=0\n"
          + "  a-1 [000] d..1. 1.000004: mm_page_free: page=0 pfn=0x3000 order=0\n";

  private static Path capture(String name) throws URISyntaxException {
    return Path.of(WorkloadCommandTest.class.getResource("/testdata/linux-6.1-qemu-1g/" + name)
        .toURI());
  }

  private static Path trace(Path dir) throws IOException {
    Path f = dir.resolve("trace.txt");
    Files.writeString(f, TRACE);
    return f;
  }

  /** Small, quick arguments per workload. */
  private static String[] workloadArgs(String name, Path dir) throws IOException {
    return switch (name) {
      case "memhog" -> new String[] {"--workload-arg", "bytes=4M", "--ops", "2"};
      case "churn" -> new String[] {"--workload-arg", "bytes=8M", "--ops", "5000"};
      case "thp" -> new String[] {"--workload-arg", "lifetime=8", "--ops", "200"};
      case "contig" -> new String[] {"--workload-arg", "size=1M", "--workload-arg", "every=100",
          "--workload-arg", "hold=300", "--ops", "2000"};
      case "replay" -> new String[] {"--trace", trace(dir).toString()};
      default -> new String[] {"--ops", "2000"};
    };
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = new String[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"churn", "memhog", "thp", "contig", "replay"})
  void procRunsEachWorkloadWithItsArgumentsDeterministically(String name, @TempDir Path dir)
      throws IOException {
    String[] argv = concat(new String[] {"proc", "--memory", "64M", "--workload", name,
        "--seed", "5", "--show", "buddyinfo"}, workloadArgs(name, dir));
    Cli.Run r = Cli.run(argv);
    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().startsWith("workload " + name + " (seed 5): "), r.err());
    assertEquals(r.out(), Cli.run(argv).out(), name + ": deterministic per seed");
  }

  @Test
  void procSummaryCarriesTheWorkloadCounters(@TempDir Path dir) throws IOException {
    Cli.Run replay = Cli.run("proc", "--memory", "64M", "--workload", "replay", "--trace",
        trace(dir).toString(), "--show", "buddyinfo");
    assertEquals(0, replay.code(), replay.err());
    assertTrue(replay.err().contains(": 2 allocs (5 pages), 1 frees (1 pages), 0 failed allocs,"
        + " 1 blocks (4 pages) still held, trace_events_left 0, unmatched_frees 1,"
        + " duplicate_allocs 0, orders_too_large 0, trace_failed_allocs 0"), replay.err());
    Cli.Run contig = Cli.run("proc", "--memory", "64M", "--workload", "contig", "--workload-arg",
        "every=100", "--ops", "1000", "--show", "buddyinfo");
    assertTrue(contig.err().contains(", contig_success "), contig.err());
    assertTrue(contig.err().contains(", contig_ebusy "), contig.err());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"churn", "memhog", "thp", "contig", "replay", "fragment", "mixed",
      "idle"})
  void simRunsEachWorkloadCleanly(String name, @TempDir Path dir) throws IOException {
    String[] args = workloadArgs(name, dir);
    // sim has its own --ops (the step budget): drop the workload's
    java.util.List<String> own = new java.util.ArrayList<>(java.util.List.of(args));
    int i = own.indexOf("--ops");
    if (i >= 0) {
      own.remove(i);
      own.remove(i);
    }
    String[] argv = concat(new String[] {"sim", "--memory", "64M", "--workload", name, "--ops",
        "3000", "--check-every", "1000", "--json"}, own.toArray(String[]::new));
    Cli.Run r = Cli.run(argv);
    assertEquals(0, r.code(), name + ": " + r.err() + r.out());
    assertTrue(r.out().contains("\"invariant_violations\": 0"), r.out());
    assertTrue(r.out().contains("\"workload\": \"" + name + "\""), r.out());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"churn", "memhog", "thp", "contig", "replay", "fragment", "mixed",
      "idle"})
  void everyWorkloadRunsOnTheImportedCapture(String name, @TempDir Path dir) throws Exception {
    String pti = capture("pagetypeinfo").toString();
    String zi = capture("zoneinfo").toString();
    Cli.Run proc = Cli.run(concat(new String[] {"proc", "--from-pagetypeinfo", pti,
        "--zoneinfo", zi, "--workload", name, "--show", "buddyinfo"}, workloadArgs(name, dir)));
    assertEquals(0, proc.code(), name + ": " + proc.err());
    assertTrue(proc.err().startsWith("workload " + name + " (seed 1): "), proc.err());
    Cli.Run sim = Cli.run(concat(new String[] {"sim", "--from-pagetypeinfo", pti, "--workload",
        name, "--ops", "2000", "--check-every", "500", "--json"},
        name.equals("replay") ? new String[] {"--trace", trace(dir).toString()}
            : new String[0]));
    assertEquals(0, sim.code(), name + ": " + sim.err() + sim.out());
    assertTrue(sim.out().contains("\"model\": \"imported from " + pti + "\""), sim.out());
    assertTrue(sim.out().contains("\"invariant_violations\": 0"), sim.out());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "--workload memhog --workload-arg bytes=1X"
        + " | --workload-arg bytes: '1X' is not a size (examples: 1G, 512M, 1GiB, 2048MiB,"
        + " 1073741824)",
    "--workload memhog --workload-arg bytes=0 | --workload-arg bytes: '0' is not a positive size",
    "--workload memhog --workload-arg bytes=100"
        + " | --workload-arg bytes must be at least a page (4096 bytes), got 100",
    "--workload memhog --workload-arg bytes=1G"
        + " | --workload-arg bytes must be at most the guest's memory (67108864 bytes),"
        + " got 1073741824",
    "--workload memhog --workload-arg size=1M"
        + " | --workload-arg: workload memhog has no argument 'size': expected bytes",
    "--workload memhog --workload-arg bytes | --workload-arg: expected KEY=VALUE, got 'bytes'",
    "--workload memhog --workload-arg bytes=1M --workload-arg bytes=2M"
        + " | --workload-arg: bytes given twice",
    "--workload contig --workload-arg size=128M"
        + " | --workload-arg size must be at most the guest's memory (67108864 bytes),"
        + " got 134217728",
    "--workload contig --workload-arg every=0"
        + " | --workload-arg every must be in [1, 2147483647], got 0",
    "--workload contig --workload-arg hold=-5"
        + " | --workload-arg hold must be in [1, 2147483647], got -5",
    "--workload contig --workload-arg every=x"
        + " | --workload-arg every: 'x' is not a whole number",
    "--workload contig --workload-arg bytes=1M"
        + " | --workload-arg: workload contig has no argument 'bytes': expected size, every, hold",
    "--workload mixed --workload-arg bytes=1M"
        + " | --workload-arg: workload mixed has no argument 'bytes' (it takes none)",
    "--workload-arg bytes=1M | --workload-arg needs --workload",
    "--workload replay | --workload replay needs --trace FILE",
    "--trace TRACE | --trace needs --workload replay",
    "--workload memhog --trace TRACE | --trace is only for --workload replay, not memhog",
    "--workload replay --trace /no/such/trace | --trace: no such file: /no/such/trace",
    "--workload replay --trace BAD | --trace: BAD:2: not an mm_page_alloc or mm_page_free line:"
        + " garbage here"
  })
  void badWorkloadParametersGiveOneExactLineAndExitCode2(String args, String expected,
      @TempDir Path dir) throws IOException {
    Path bad = dir.resolve("bad.txt");
    Files.writeString(bad, "# header\ngarbage here\n");
    String line = args.replace("TRACE", trace(dir).toString()).replace("BAD", bad.toString());
    for (String command : new String[] {"proc", "sim"}) {
      String tail = command.equals("proc") ? " --show buddyinfo" : " --ops 100";
      if (command.equals("sim") && !line.contains("--workload ")) {
        continue; // sim requires --workload
      }
      String[] argv = (command + " --memory 64M " + line + tail).split(" ");
      Cli.Run r = Cli.run(argv);
      String want = "hintlab guest " + command + ": "
          + expected.replace("TRACE", trace(dir).toString()).replace("BAD", bad.toString());
      assertEquals(2, r.code(), command + ": " + r.err());
      assertEquals(want, r.err().strip(), command);
      assertEquals("", r.out(), command);
    }
  }
}
