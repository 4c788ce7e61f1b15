package io.hintlab.guest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Smoke runs of {@code bench alloc} with tiny parameters: keys and shape, never timings. */
class BenchAllocCommandTest {
  private static final List<String> KEYS = List.of(
      "order0_pairs_per_sec", "order0_pairs_per_sec_nopcp", "mixed_ops_per_sec",
      "bytes_per_page", "build_256g_seconds", "build_256g_heap_bytes", "memory_bytes", "ring",
      "seed", "warmup_iterations", "iterations", "iteration_ms", "build_memory_bytes", "forked",
      "how", "targets_met");

  private static final String[] TINY = {
    "bench", "alloc", "--json", "--memory", "16M", "--ring", "16", "--warmup", "0",
    "--iterations", "1", "--iteration-ms", "1", "--build-memory", "16M", "--build-runs", "1"
  };

  private static String[] tiny(String fork) {
    String[] args = Arrays.copyOf(TINY, TINY.length + 1);
    args[TINY.length] = fork;
    return args;
  }

  @ParameterizedTest
  @ValueSource(strings = {"--no-fork", "--fork"})
  void shouldPrintOneJsonObjectWithTheFiguresAndParameters(String fork) {
    Cli.Run r = Cli.run(tiny(fork));
    assertEquals(0, r.code(), r.err());
    String json = r.out().strip();
    assertTrue(json.startsWith("{") && json.endsWith("}"), json);
    for (String key : KEYS) {
      assertTrue(json.contains("\"" + key + "\": "), "missing " + key + " in " + json);
    }
    assertTrue(number(json, "order0_pairs_per_sec") > 0, json);
    assertTrue(number(json, "mixed_ops_per_sec") > 0, json);
    assertTrue(number(json, "bytes_per_page") >= 10, json);
    assertTrue(json.contains("\"forked\": " + fork.equals("--fork")), json);
    assertTrue(json.contains("\"memory_bytes\": 16777216"), json);
  }

  @Test
  void shouldPrintATableWithoutJson() {
    String[] args = List.of(tiny("--no-fork")).stream().filter(a -> !a.equals("--json"))
        .toArray(String[]::new);
    Cli.Run r = Cli.run(args);
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("order-0 pairs/s, pcp on"), r.out());
    assertTrue(r.out().contains("metadata bytes/page"), r.out());
    assertTrue(r.err().contains("bench alloc: mixed workload..."), r.err());
  }

  @Test
  void shouldRejectBadParametersWithExitCode2AndOneLine() {
    Cli.Run ring = Cli.run("bench", "alloc", "--ring", "3");
    assertEquals(2, ring.code());
    assertEquals("hintlab guest bench alloc: --ring must be a power of two in [1, 65536], got 3",
        ring.err().strip());
    Cli.Run mem = Cli.run("bench", "alloc", "--memory", "lots");
    assertEquals(2, mem.code());
    assertEquals(1, mem.err().strip().lines().count(), mem.err());
    assertTrue(mem.err().contains("--memory"), mem.err());
    Cli.Run small = Cli.run("bench", "alloc", "--build-memory", "1M");
    assertEquals(2, small.code());
    assertTrue(small.err().contains("--build-memory must be [16 MiB, 1 TiB]"), small.err());
  }

  private static double number(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\": ([0-9.Ee+-]+)").matcher(json);
    assertTrue(m.find(), key);
    return Double.parseDouble(m.group(1));
  }
}
