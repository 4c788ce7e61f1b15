package io.hintlab.host.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.proto.v1.GuestStatus;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DemoScenarioTest {
  private static final long MIB = 1L << 20;

  /** A demo result whose host saw {@code peak} then {@code end}, and whose guest reported. */
  private static PairResult result(long peak, long end, long reported, long lost) {
    GuestWatch w = new GuestWatch();
    w.sampled(1, status(peak, peak));
    w.sampled(2, status(end, peak));
    w.sampled(3, status(end, peak));
    GuestReport g = GuestReport.parse("{\"reported_bytes\": " + reported
        + ", \"report_batches\": 9, \"lost_writes\": " + lost
        + ", \"corrupt_pages\": 0, \"invariant_violations\": 0}").orElseThrow();
    return new PairResult(DemoScenario.options(false, false), "unix:/d/host.sock", g, 0, w, 0, 0,
        List.of(), 40, Optional.empty());
  }

  private static GuestStatus status(long rss, long peak) {
    return GuestStatus.newBuilder().setRssBytes(rss).setRssPeakBytes(peak)
        .putCounters("reports", 9).putCounters("refaults", 0).putCounters("races", 0).build();
  }

  @Test
  void aGoodRunPassesAllFourConditionsWithTheMeasuredValues() {
    List<DemoScenario.Verdict> v = DemoScenario.verdicts(result(310 * MIB, 48 * MIB,
        950 * MIB, 0));
    assertEquals(List.of(
        "host RSS at end 15.5% of peak (< 33.3%): ok",
        "reported 92.8% of guest memory (>= 50%): ok",
        "lost writes 0 (= 0): ok",
        "invariant violations 0 (= 0): ok"), v.stream().map(DemoScenario.Verdict::line).toList());
    assertTrue(v.stream().allMatch(DemoScenario.Verdict::ok));
  }

  @Test
  void eachConditionFailsOnItsOwn() {
    List<DemoScenario.Verdict> v = DemoScenario.verdicts(result(300 * MIB, 100 * MIB,
        512 * MIB - 1, 2));
    assertEquals("host RSS at end 33.3% of peak (< 33.3%): FAILED", v.get(0).line(),
        "exactly a third is not under a third");
    assertFalse(v.get(1).ok(), "just under half the memory");
    assertEquals("lost writes 2 (= 0): FAILED", v.get(2).line());
    assertTrue(v.get(3).ok());
  }

  @Test
  void anUnknownEndIsAFailureNotAPass() {
    GuestWatch w = new GuestWatch();
    w.sampled(1, GuestStatus.newBuilder().setRssBytes(0).setRssPeakBytes(300).build());
    GuestReport g = GuestReport.parse("{\"reported_bytes\": 1073741824, \"lost_writes\": 0,"
        + " \"invariant_violations\": 0}").orElseThrow();
    PairResult r = new PairResult(DemoScenario.options(false, false), "x", g, 0, w, 0, 0,
        List.of(), 1, Optional.empty());
    DemoScenario.Verdict rss = DemoScenario.verdicts(r).getFirst();
    assertEquals("host RSS at end unknown of peak (< 33.3%): FAILED", rss.line());
  }

  @Test
  void theTableSaysWhatEachNumberMeasures() {
    PairResult r = result(310 * MIB, 48 * MIB, 950 * MIB, 0);
    List<String> t = PairReport.table(r);
    assertEquals("scenario: 1G guest, workload idle, strategy page-reporting, host mode discard,"
        + " unix, seed 1, 40 s", t.getFirst());
    String all = String.join("\n", t);
    assertTrue(all.contains("host RSS at peak           310.0 MiB  guest RAM file's allocated "
        + "blocks (st_blocks x 512)"), all);
    assertTrue(all.contains("host RSS at end             48.0 MiB  the same, last sample while "
        + "the guest was attached: 15.5% of peak"), all);
    assertTrue(all.contains("report batches                     9  acknowledged (guest count); "
        + "0 failed; the host counted 9"), all);
  }

  @Test
  void theJsonHasTheRequiredKeys() {
    Map<String, Object> m = result(310 * MIB, 48 * MIB, 950 * MIB, 0).toMap();
    for (String k : List.of("guest_memory_bytes", "host_rss_peak_bytes", "host_rss_end_bytes",
        "reported_bytes", "refaulted_pages", "races_detected", "lost_writes",
        "invariant_violations", "strategy", "workload", "seed", "seconds", "host_mode",
        "transport", "report_batches", "host_reports", "host_counters", "guest")) {
      assertTrue(m.containsKey(k), k);
    }
    assertEquals(48 * MIB, m.get("host_rss_end_bytes"));
    assertEquals(1L << 30, m.get("guest_memory_bytes"));
    assertEquals(9L, m.get("host_reports"));
  }
}
