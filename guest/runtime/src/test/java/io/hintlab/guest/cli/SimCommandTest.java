package io.hintlab.guest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code hintlab guest sim}. */
class SimCommandTest {
  private static final List<String> KEYS = List.of("thp_alloc_success", "thp_alloc_fail",
      "contig_alloc_success", "contig_alloc_fail", "isolate_ebusy", "compact_stall",
      "compact_success", "compact_fail", "pgmigrate_success", "pgmigrate_fail",
      "invariant_violations");

  private static long value(String json, String key) {
    int i = json.indexOf("\"" + key + "\": ");
    assertTrue(i >= 0, key + " missing in " + json);
    int start = i + key.length() + 4;
    int end = start;
    while (end < json.length() && (Character.isDigit(json.charAt(end)) || json.charAt(end) == '-')) {
      end++;
    }
    return Long.parseLong(json.substring(start, end));
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {1L, 7L})
  void jsonHasTheIssueKeysAndNoViolations(long seed) {
    Cli.Run r = Cli.run("sim", "--memory", "64M", "--workload", "fragment", "--seed",
        Long.toString(seed), "--ops", "30000", "--compaction", "kernel", "--thp-every", "100",
        "--contig-every", "5000", "--contig-pages", "256", "--check-every", "5000", "--json");
    assertEquals(0, r.code(), "seed " + seed + ": " + r.err());
    for (String k : KEYS) {
      assertTrue(value(r.out(), k) >= 0, "seed " + seed + " " + k);
    }
    assertEquals(0, value(r.out(), "invariant_violations"), "seed " + seed + ": " + r.out());
    assertEquals(300, value(r.out(), "thp_alloc_success") + value(r.out(), "thp_alloc_fail"),
        "seed " + seed);
    assertEquals(6, value(r.out(), "contig_alloc_success") + value(r.out(), "contig_alloc_fail"),
        "seed " + seed);
    assertEquals(30000, value(r.out(), "steps"), "seed " + seed);
  }

  @Test
  void thpsHeldUntilTheEndWithLifetimeZero() {
    Cli.Run r = Cli.run("sim", "--memory", "64M", "--workload", "fragment", "--ops", "40000",
        "--thp-every", "200", "--thp-lifetime", "0", "--compaction", "direct", "--json");
    assertEquals(0, r.code(), r.err());
    assertEquals(value(r.out(), "thp_alloc_success"), value(r.out(), "thp_held"), r.out());
  }

  @Test
  void sameSeedSameOutput() {
    String[] args = {"sim", "--memory", "64M", "--workload", "mixed", "--seed", "3", "--seconds",
        "20", "--compaction", "direct", "--thp-every", "50", "--json"};
    assertEquals(Cli.run(args).out(), Cli.run(args).out());
  }

  @Test
  void textOutputWithViews() {
    Cli.Run r = Cli.run("sim", "--memory", "64M", "--workload", "idle", "--ops", "2000",
        "--show", "buddyinfo,extfrag");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("thp_alloc_success "), r.out());
    assertTrue(r.out().contains("==> /proc/buddyinfo <==\nNode 0, zone      DMA"), r.out());
    assertTrue(r.out().contains("==> /sys/kernel/debug/extfrag/extfrag_index <=="), r.out());
  }

  @Test
  void badOptionsNameTheOption() {
    assertEquals(2, Cli.run("sim", "--workload", "fragment").code());
    Cli.Run both = Cli.run("sim", "--workload", "fragment", "--ops", "1", "--seconds", "1");
    assertTrue(both.err().contains("exactly one of --seconds and --ops"), both.err());
    Cli.Run pol = Cli.run("sim", "--workload", "fragment", "--ops", "1", "--compaction", "x");
    assertEquals(2, pol.code());
    assertTrue(pol.err().contains("--compaction: unknown compaction policy 'x'"), pol.err());
    Cli.Run wl = Cli.run("sim", "--workload", "nope", "--ops", "1");
    assertTrue(wl.err().contains("--workload: unknown workload 'nope'"), wl.err());
    Cli.Run gfp = Cli.run("sim", "--workload", "mixed", "--ops", "1", "--thp-gfp", "huge");
    assertTrue(gfp.err().contains("--thp-gfp"), gfp.err());
  }
}
