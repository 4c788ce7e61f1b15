package io.hintlab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.host.lab.GuestReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hintlab migrate} as a user runs it: a migrate process (HostMain, spawned with the
 * launcher's environment taken from this JVM) that runs two fresh pairs of {@code host serve
 * --mode migrate} and {@code guest run --strategy hint-alloc-hold}, migrating the first with
 * free page hints and the second without.
 *
 * <p>The guest is small (256 MiB) and its memhog touches 180 MiB, frees it and idles; the
 * migration starts 8 s after the attach, at 100 MiB/s. With hints, the freed memory is hinted
 * and skipped, so at most 40 % of the normal pages of the run without hints are sent; with all
 * guards on, no owned page may differ at the destination. (That guest holds nothing when it is
 * paused, so its verification is vacuous; the other two tests migrate guests that do.)
 *
 * <p>The second test is the idle-guest statement at 512 MiB: a 51 MiB resident set (the kernel
 * and page cache) stays in use and memhog touched 400 MiB and freed it, so the guest idles with
 * about 90 % of its memory free; at 1 GiB/s, the bytes sent with hints are at most 20 % of those
 * without.
 */
class MigrateIT {
  @TempDir Path dir;

  private final List<Process> started = new ArrayList<>();

  @AfterEach
  void stopWhatIsLeft() throws Exception {
    for (Process p : started) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void hintsCutTheNormalPagesSentToAtMost40PercentWithoutCorruptingAnyPage() throws Exception {
    Run run = migrate("migrate", "--memory", "256M", "--seed", "5",
        "--guest-arg=--workload-arg=bytes=180M", "--guest-arg=--ops=1",
        "--bandwidth", "100MiB/s", "--migrate-after", "8", "--hinting", "compare",
        "--no-progress", "--json");
    Map<String, Object> r = run.fields();
    String ctx = run.ctx();
    long with = number(r, "normal_pages");
    long without = number(r, "normal_pages_without_hints");
    assertTrue(without >= (180L << 20) / 4096, "the run without hints sent the touched memory: "
        + ctx);
    assertTrue(with * 100 <= without * 40, with + " > 40% of " + without + ": " + ctx);
    assertTrue(number(r, "pages_skipped_by_hints") > 0, ctx);
    assertEquals(0, number(r, "corrupted_pages"), ctx);
    assertEquals(0, number(r, "corrupted_pages_without_hints"), ctx);
    assertEquals(5L, r.get("seed"));
    System.out.printf("migrate IT: normal pages %d with hints, %d without (%.1f%%)%n", with,
        without, 100.0 * with / without);
  }

  @Test
  void anIdleGuestAbout90PercentFreeSendsAtMost20PercentOfTheBytesWithHints() throws Exception {
    // 10 % resident (kernel and page cache); 400 MiB used earlier and freed: ~90 % free, and
    // the free memory is not all zeros (a guest that never touched it would send zero pages)
    Run run = migrate("migrate-idle", "--memory", "512M", "--seed", "1", "--workload", "memhog",
        "--guest-arg=--workload-arg=bytes=400M", "--guest-arg=--ops=1",
        "--guest-arg=--resident=51M", "--bandwidth", "1GiB/s", "--migrate-after", "8",
        "--hinting", "compare", "--no-progress", "--json");
    Map<String, Object> r = run.fields();
    String ctx = run.ctx();
    long with = number(r, "bytes_sent");
    long without = number(r, "bytes_sent_without_hints");
    assertTrue(without >= 51L << 20, "the run without hints sent at least the resident set: "
        + ctx);
    assertTrue(with * 100 <= without * 20, with + " > 20% of " + without + ": " + ctx);
    long resident = (51L << 20) / 4096;
    assertTrue(number(r, "owned_pages") >= resident,
        "the paused guest named the resident set as owned: " + ctx);
    assertEquals(0, number(r, "corrupted_pages"), ctx);
    assertEquals(0, number(r, "corrupted_pages_without_hints"), ctx);
    System.out.printf("migrate IT idle: %d bytes with hints, %d without (%.1f%%)%n", with,
        without, 100.0 * with / without);
  }

  @Test
  void aChurningGuestMigratedWithHintsAndEveryGuardOnArrivesIntact() throws Exception {
    // paced, and one round longer than the run: unpaced churn frees its whole working set every
    // ~60 ms, and a pause that lands just after that finds almost nothing owned to verify
    Run run = migrate("migrate-churn", "--memory", "128M", "--seed", "7", "--workload", "churn",
        "--guest-arg=--idle-seconds=0", "--guest-arg=--step-rate=20000",
        "--guest-arg=--ops=10000000", "--bandwidth", "200MiB/s", "--migrate-after", "4",
        "--hinting", "on", "--no-progress", "--json");
    Map<String, Object> r = run.fields();
    String ctx = run.ctx();
    assertTrue(number(r, "owned_pages") > 1000, "the paused guest named the pages it holds: "
        + ctx);
    assertTrue(number(r, "pages_hinted") > 0, ctx);
    assertEquals(0, number(r, "corrupted_pages"), ctx);
    assertEquals(0, number(r, "detector_false_alarms"), ctx);
    System.out.printf("migrate IT churn: %d owned pages verified, %d hinted, 0 corrupted%n",
        number(r, "owned_pages"), number(r, "pages_hinted"));
  }

  /** A finished migrate run: its JSON fields and its output for failure messages. */
  private record Run(Map<String, Object> fields, String ctx) {}

  /** Runs {@code hintlab migrate} with {@code args}; fails the test unless it exits 0. */
  private Run migrate(String name, String... args) throws Exception {
    Path out = Files.createTempFile(dir, name, ".out");
    Path err = Files.createTempFile(dir, name, ".err");
    Process p = start(out, err, args);
    assertTrue(p.waitFor(240, TimeUnit.SECONDS), name + ": bounded");
    String ctx = "stdout: " + Files.readString(out) + "\nstderr: " + Files.readString(err);
    assertEquals(0, p.exitValue(), ctx);
    return new Run(GuestReport.parse(Files.readString(out)).orElseThrow().fields(), ctx);
  }

  private Process start(Path out, Path err, String... args) throws IOException {
    String java = ProcessHandle.current().info().command().orElseThrow();
    String cp = System.getProperty("java.class.path");
    List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
        "-cp", cp, "io.hintlab.host.cli.HostMain", "migrate"));
    cmd.addAll(List.of(args));
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
