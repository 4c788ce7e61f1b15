package io.hintlab.guest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DemoCommandTest {
  @Test
  void shouldShowBuddyinfoBeforeAndAfterTheFragmentWorkload() {
    Cli.Run r = Cli.run("demo", "--memory", "64M");
    assertEquals(0, r.code(), r.err());
    String out = r.out();
    int boot = out.indexOf("/proc/buddyinfo at boot:");
    int workload = out.indexOf("workload fragment (seed 1):");
    int after = out.indexOf("/proc/buddyinfo after:");
    assertTrue(boot >= 0 && workload > boot && after > workload, out);
    assertTrue(out.contains("Node 0, zone    DMA32"), out);
    assertTrue(out.contains("free pages"), out);
    assertTrue(out.contains("fallbacks to other migratetypes"), out);
    assertTrue(out.contains("failed allocations"), out);
    assertEquals(out, Cli.run("demo", "--memory", "64M").out(), "same seed, same output");
  }

  @Test
  void shouldPrintTheSameAsJson() {
    Cli.Run r = Cli.run("demo", "--memory", "64M", "--json", "--seed", "5", "--cpus", "1");
    assertEquals(0, r.code(), r.err());
    String json = r.out().strip();
    assertTrue(json.startsWith("{") && json.endsWith("}"), json);
    for (String key : new String[] {"\"memory_bytes\": 67108864", "\"cpus\": 1",
        "\"workload\": \"fragment\"", "\"seed\": 5", "\"before\": {", "\"after\": {",
        "\"free_pages\": ", "\"nr_free\": [", "\"buddyinfo_text\": \"Node 0, zone ",
        "\"fallbacks\": ", "\"alloc_failures\": "}) {
      assertTrue(json.contains(key), "missing " + key + " in " + json);
    }
  }

  @Test
  void shouldRejectBadOptionsInOneLineWithExitCode2() {
    Cli.Run small = Cli.run("demo", "--memory", "4M");
    assertEquals(2, small.code());
    assertEquals("hintlab guest demo: --memory: memory must be at least 8 MiB, got 4194304 bytes",
        small.err().strip());
    Cli.Run cpus = Cli.run("demo", "--cpus", "0");
    assertEquals(2, cpus.code());
    assertEquals("hintlab guest demo: --cpus must be in [1, 1024], got 0", cpus.err().strip());
    Cli.Run seed = Cli.run("demo", "--seed", "x");
    assertEquals(2, seed.code());
    assertEquals(1, seed.err().strip().lines().count(), seed.err());
    assertTrue(seed.err().contains("'--seed'"), seed.err());
  }
}
