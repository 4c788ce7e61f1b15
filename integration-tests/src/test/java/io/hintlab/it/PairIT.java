package io.hintlab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.host.lab.GuestReport;
import io.hintlab.host.rpc.HostAddress;
import io.hintlab.host.rpc.HostChannel;
import io.hintlab.proto.v1.GuestStatus;
import io.hintlab.proto.v1.HostControlGrpc;
import io.hintlab.proto.v1.ListGuestsRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hintlab pair} as a user runs it: a pair process (HostMain, spawned with the launcher's
 * environment taken from this JVM) that spawns a {@code host serve} and a {@code guest run}
 * process, over a Unix socket and over loopback TCP; and the faults: a bad option, and a guest
 * or a host killed in the middle of the run.
 *
 * <p>The scenario is small (256 MiB, 8 s) so the class stays well under a minute: the idle
 * workload writes 30 % of the memory, frees it, and page-reporting reports it within a few
 * seconds (128 MiB would not do: the guest's fixed allocations alone are near a third of its
 * working set there).
 */
class PairIT {
  private static final long MEMORY = 256L << 20;
  private static final Pattern HOST_READY =
      Pattern.compile("host ready on (\\S+) \\(pid (\\d+), log (\\S+)\\)");
  private static final Pattern GUEST_ATTACHED =
      Pattern.compile("guest (\\S+) attached \\(pid (\\d+), log (\\S+)\\)");
  private static final Pattern KEPT = Pattern.compile("logs kept in (\\S+)");

  @TempDir Path dir;

  private final List<Process> started = new ArrayList<>();

  /** A pair process and where its output went. */
  private record Pair(Process process, Path out, Path err) {
    String stderr() throws IOException {
      return Files.readString(err);
    }
  }

  @AfterEach
  void stopWhatIsLeft() throws Exception {
    for (Process p : started) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void pairOverUnixSocketGivesTheReportedMemoryBackToTheHost() throws Exception {
    Map<String, Object> r = runToTheEnd("unix");
    assertEquals("unix", r.get("transport"));
    assertTrue(r.get("host").toString().startsWith("unix:/"), r.toString());
  }

  @Test
  void pairOverLoopbackTcpGivesTheReportedMemoryBackToTheHost() throws Exception {
    Map<String, Object> r = runToTheEnd("tcp");
    assertEquals("tcp", r.get("transport"));
    assertTrue(r.get("host").toString().matches("127\\.0\\.0\\.1:\\d+"), r.toString());
  }

  @Test
  void aBadOptionExitsWith2NamingItAndStartsNothing() throws Exception {
    Pair p = start("--transport", "carrier-pigeon", "--json");
    assertTrue(p.process().waitFor(60, TimeUnit.SECONDS), "bounded");
    String err = p.stderr();
    assertEquals(2, p.process().exitValue(), err);
    assertEquals("hintlab pair: --transport must be unix or tcp, got 'carrier-pigeon'\n", err);
    assertEquals("", Files.readString(p.out()));
  }

  @Test
  void aGuestKilledMidRunMakesPairExit1NamingTheGuestAndItsLog() throws Exception {
    Pair p = start("--memory", "256M", "--seconds", "30", "--no-progress", "--json");
    Matcher host = await(p, HOST_READY);
    long guestPid = guestPidFromTheHost(host.group(1));
    Matcher guest = await(p, GUEST_ATTACHED);
    assertEquals(guestPid, Long.parseLong(guest.group(2)), "the pair found the same guest");
    ProcessHandle.of(guestPid).orElseThrow().destroyForcibly();
    assertTrue(p.process().waitFor(60, TimeUnit.SECONDS), "bounded");
    String err = p.stderr();
    assertEquals(1, p.process().exitValue(), err);
    assertTrue(err.contains("hintlab pair: guest process died (exit code 137); log "
        + guest.group(3)), err);
    assertTrue(Files.exists(Path.of(guest.group(3))), "the failed run kept the guest's log");
    assertFalse(alive(Long.parseLong(host.group(2))), "the host was stopped: " + err);
    deleteKeptLogs(err);
  }

  @Test
  void aHostKilledMidRunMakesPairExit1NamingTheHostAndItsLog() throws Exception {
    Pair p = start("--memory", "256M", "--seconds", "30", "--no-progress",
        "--transport", "tcp");
    Matcher host = await(p, HOST_READY);
    Matcher guest = await(p, GUEST_ATTACHED);
    ProcessHandle.of(Long.parseLong(host.group(2))).orElseThrow().destroyForcibly();
    assertTrue(p.process().waitFor(60, TimeUnit.SECONDS), "bounded");
    String err = p.stderr();
    assertEquals(1, p.process().exitValue(), err);
    assertTrue(err.contains("hintlab pair: host process died (exit code 137); log "
        + host.group(3) + ", last lines:\n  hintlab host: listening on"), err);
    assertFalse(alive(Long.parseLong(guest.group(2))), "the guest was stopped: " + err);
    deleteKeptLogs(err);
  }

  /** Runs a whole pair and checks the must-show conditions on its JSON. */
  private Map<String, Object> runToTheEnd(String transport) throws Exception {
    Pair p = start("--memory", "256M", "--seconds", "8", "--transport", transport,
        "--seed", "3", "--guest-arg=--delay=500ms", "--no-progress", "--json");
    assertTrue(p.process().waitFor(90, TimeUnit.SECONDS), "bounded");
    String err = p.stderr();
    String out = Files.readString(p.out());
    String ctx = "stdout: " + out + "\nstderr: " + err;
    assertEquals(0, p.process().exitValue(), ctx);
    Map<String, Object> r = GuestReport.parse(out).orElseThrow().fields();
    long peak = number(r, "host_rss_peak_bytes");
    long end = number(r, "host_rss_end_bytes");
    long reported = number(r, "reported_bytes");
    assertEquals(MEMORY, number(r, "guest_memory_bytes"), ctx);
    // The working set (30 % of the memory) was written: the RAM file grew...
    assertTrue(peak >= MEMORY / 5, ctx);
    // ...and once freed and reported, the host punched it out while the guest was attached.
    assertTrue(end >= 0 && end * 3 < peak, ctx);
    assertTrue(reported * 2 >= MEMORY, ctx);
    assertEquals(0, number(r, "lost_writes"), ctx);
    assertEquals(0, number(r, "invariant_violations"), ctx);
    assertEquals(0, number(r, "guest_exit_code"), ctx);
    assertTrue(number(r, "host_reports") > 0, ctx);
    assertTrue(number(r, "host_rss_samples") > 10, ctx + ": sampled every 100 ms");
    assertEquals("page-reporting", r.get("strategy"));
    assertEquals(3L, r.get("seed"));
    @SuppressWarnings("unchecked")
    Map<String, Object> guest = (Map<String, Object>) r.get("guest");
    assertEquals(true, guest.get("detached"), ctx);
    Matcher host = HOST_READY.matcher(err);
    assertTrue(host.find(), ctx);
    assertFalse(alive(Long.parseLong(host.group(2))), "the host was stopped");
    assertFalse(Files.exists(Path.of(host.group(3)).getParent()), "a clean run leaves nothing");
    System.out.printf("pair IT %s: host RSS peak %d, end %d (%.1f%%), reported %d bytes%n",
        transport, peak, end, 100.0 * end / peak, reported);
    return r;
  }

  private Pair start(String... args) throws IOException {
    String java = ProcessHandle.current().info().command().orElseThrow();
    String cp = System.getProperty("java.class.path");
    List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED",
        "-cp", cp, "io.hintlab.host.cli.HostMain", "pair"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    // what the ./hintlab launcher exports: both sides are on this JVM's class path
    pb.environment().put("HINTLAB_JAVA", java);
    pb.environment().put("HINTLAB_HOST_CLASSPATH", cp);
    pb.environment().put("HINTLAB_GUEST_CLASSPATH", cp);
    Path out = Files.createTempFile(dir, "pair", ".out");
    Path err = Files.createTempFile(dir, "pair", ".err");
    pb.redirectOutput(out.toFile());
    pb.redirectError(err.toFile());
    Process p = pb.start();
    started.add(p);
    return new Pair(p, out, err);
  }

  /** Waits (bounded) for a line of the pair's stderr. */
  private static Matcher await(Pair p, Pattern line) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      Matcher m = line.matcher(p.stderr());
      if (m.find()) {
        return m;
      }
      assertTrue(p.process().isAlive(), "pair exited early: " + p.stderr());
      Thread.sleep(50);
    }
    throw new AssertionError("no line matching " + line + " in: " + p.stderr());
  }

  /** The guest's pid as the host knows it (ListGuests), polled until it attached. */
  private static long guestPidFromTheHost(String address) throws Exception {
    HostAddress a = address.startsWith("unix:") ? HostAddress.unix(Path.of(address.substring(5)))
        : HostAddress.parseTcp(address);
    try (HostChannel ch = HostChannel.open(a)) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() < deadline) {
        Optional<GuestStatus> g = HostControlGrpc.newBlockingStub(ch.channel())
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .listGuests(ListGuestsRequest.getDefaultInstance()).getGuestsList().stream()
            .findFirst();
        if (g.isPresent()) {
          return g.get().getPid();
        }
        Thread.sleep(50);
      }
    }
    throw new AssertionError("no guest attached to " + address);
  }

  private static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  private static long number(Map<String, Object> m, String key) {
    assertTrue(m.get(key) instanceof Number, key + " in " + m);
    return ((Number) m.get(key)).longValue();
  }

  /** A failed run keeps its lab directory for the user; the test removes it. */
  private static void deleteKeptLogs(String err) throws IOException {
    Matcher m = KEPT.matcher(err);
    assertTrue(m.find(), "the pair says where the logs are: " + err);
    try (Stream<Path> s = Files.walk(Path.of(m.group(1)))) {
      for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(f);
      }
    }
  }
}
