package io.hintlab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.hintlab.host.lab.GuestReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The race oracle's two statements with real processes: {@code hintlab migrate} spawned as
 * MigrateIT does (HostMain with the launcher's environment taken from this JVM), one fresh {@code
 * host serve --mode migrate} and one {@code guest run --strategy free-list-walk --hint-queue} per
 * migration. That guest hints blocks it leaves on the free lists, through a free page virtqueue
 * the device drains on its own thread, so its {@code churn} workload reallocates and writes hinted
 * pages while their hints may still be on the way: the race the guards exist for.
 *
 * <p>The scenario is the one of BENCHMARKS.md, {@code ### races}: a 128 MiB guest, {@code churn}
 * paced at 20,000 steps a second (so its blocks live about as long as a migration round, as a
 * real guest's do; unpaced, every block is freed within milliseconds and no page written before
 * a sync is still held at the pause) without idle stretches, walks down to order 0 with 1,024
 * blocks per hint call, migrated 3 s after it attached at 256 MiB/s with a downtime limit of 0
 * and 20 rounds, so the host syncs the bitmap about every 220 ms while the guest walks.
 *
 * <p>Two migrations run at a time, to keep the test short; each is a separate host and guest.
 */
class RacesIT {
  private static final int SEEDS = 10;
  private static final String APPLY_HINTS_ACROSS_SYNC = "apply-hints-across-sync";

  @TempDir Path dir;

  private final List<Process> started = new CopyOnWriteArrayList<>();

  @AfterEach
  void stopWhatIsLeft() throws Exception {
    for (Process p : started) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void everyGuardOnLeavesEveryOwnedPageIntactForEachOfTenSeeds() throws Exception {
    for (long seed = 1; seed <= SEEDS; seed += 2) {
      List<Map<String, Object>> pair = migratePair(seed, null);
      for (int i = 0; i < pair.size(); i++) {
        Map<String, Object> r = pair.get(i);
        String where = "seed " + (seed + i) + ", all guards on: " + r;
        assertEquals(seed + i, number(r, "seed"), where);
        assertTrue(number(r, "pages_hinted") > 0, where);
        assertTrue(number(r, "owned_pages") > 1000,
            "the paused guest named the pages it holds: " + where);
        assertEquals(0, number(r, "corrupted_pages"), where);
        assertEquals(0, number(r, "detector_flagged_pages"),
            "no hint may cross a bitmap sync with every guard on: " + where);
        assertEquals(0, number(r, "detector_false_alarms"), where);
      }
    }
  }

  @Test
  void lateHintsAppliedAcrossASyncCorruptPagesForSomeSeedEachBlamedOnTheLateHint()
      throws Exception {
    List<String> seen = new ArrayList<>();
    for (long seed = 1; seed <= SEEDS; seed += 2) {
      for (Map<String, Object> r : migratePair(seed, APPLY_HINTS_ACROSS_SYNC)) {
        long corrupted = number(r, "corrupted_pages");
        String where = "seed " + number(r, "seed") + ", " + APPLY_HINTS_ACROSS_SYNC
            + " off: " + r;
        @SuppressWarnings("unchecked")
        Map<String, Object> causes = (Map<String, Object>) r.get("corrupted_by_cause");
        assertEquals(corrupted, number(causes, "hint_after_last_write"),
            "every corrupted page is blamed on a hint applied after its last write: " + where);
        assertEquals(0, number(causes, "never_sent"), where);
        assertEquals(0, number(causes, "stale_id_accepted"), where);
        assertEquals(0, number(causes, "unexplained"), where);
        assertEquals(corrupted, number(r, "detector_hits"),
            "the detector flagged every corrupted page: " + where);
        assertEquals(0, number(r, "detector_misses"), where);
        seen.add("seed " + number(r, "seed") + ": " + corrupted + " corrupted, "
            + number(r, "detector_flagged_pages") + " flagged");
      }
      if (seen.stream().anyMatch(x -> !x.contains(": 0 corrupted"))) {
        System.out.println("races IT, " + APPLY_HINTS_ACROSS_SYNC + " off: " + seen);
        return;
      }
    }
    fail("no seed of 1.." + SEEDS + " corrupted a page with " + APPLY_HINTS_ACROSS_SYNC
        + " off: " + seen);
  }

  /** Seeds {@code seed} and {@code seed + 1} migrated at the same time, in seed order. */
  private List<Map<String, Object>> migratePair(long seed, String guardOff) throws Exception {
    try (ExecutorService two = Executors.newFixedThreadPool(2)) {
      Future<Map<String, Object>> first = two.submit(() -> migrate(seed, guardOff));
      Future<Map<String, Object>> second = two.submit(() -> migrate(seed + 1, guardOff));
      return List.of(first.get(), second.get());
    }
  }

  /** One migrate run, its JSON as a map; fails the test unless it exits 0. */
  private Map<String, Object> migrate(long seed, String guardOff) throws Exception {
    Path out = Files.createTempFile(dir, "races-" + seed, ".out");
    Path err = Files.createTempFile(dir, "races-" + seed, ".err");
    List<String> args = new ArrayList<>(List.of("--memory", "128M", "--seed",
        Long.toString(seed), "--workload", "churn", "--strategy", "free-list-walk",
        "--guest-arg=--hint-queue", "--guest-arg=--report-order=0",
        "--guest-arg=--capacity=1024", "--guest-arg=--idle-seconds=0",
        "--guest-arg=--step-rate=20000",
        "--bandwidth", "256MiB/s", "--downtime-ms", "0", "--max-rounds", "20",
        "--migrate-after", "3", "--hinting", "on", "--no-progress", "--json"));
    if (guardOff != null) {
      args.addAll(List.of("--guard-off", guardOff));
    }
    Process p = start(out, err, args);
    assertTrue(p.waitFor(240, TimeUnit.SECONDS), "seed " + seed + ": bounded");
    String ctx = "seed " + seed + ": stdout: " + Files.readString(out) + "\nstderr: "
        + Files.readString(err);
    assertEquals(0, p.exitValue(), ctx);
    return GuestReport.parse(Files.readString(out)).orElseThrow().fields();
  }

  private Process start(Path out, Path err, List<String> args) throws IOException {
    String java = ProcessHandle.current().info().command().orElseThrow();
    String cp = System.getProperty("java.class.path");
    List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
        "-cp", cp, "io.hintlab.host.cli.HostMain", "migrate"));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    // what the ./hintlab launcher exports: both sides are on this JVM's class path
    pb.environment().put("HINTLAB_JAVA", java);
    pb.environment().put("HINTLAB_HOST_CLASSPATH", cp);
    pb.environment().put("HINTLAB_GUEST_CLASSPATH", cp);
    pb.redirectOutput(out.toFile());
    pb.redirectError(err.toFile());
    Process p = pb.start();
    started.add(p);
    return p;
  }

  private static long number(Map<String, Object> m, String key) {
    Object v = m.get(key);
    assertTrue(v instanceof Number, key + " missing in " + m);
    return ((Number) v).longValue();
  }
}
