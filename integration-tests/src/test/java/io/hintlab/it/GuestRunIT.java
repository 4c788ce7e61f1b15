package io.hintlab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.cli.GuestMain;
import io.hintlab.host.rpc.HostAddress;
import io.hintlab.host.rpc.HostChannel;
import io.hintlab.host.rpc.HostConfig;
import io.hintlab.host.rpc.HostServer;
import io.hintlab.proto.v1.GuestStatus;
import io.hintlab.proto.v1.HostControlGrpc;
import io.hintlab.proto.v1.ListGuestsRequest;
import io.hintlab.proto.v1.ListGuestsResponse;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code hintlab guest run} against a real host in this JVM: a HostServer on a Unix socket (and
 * on loopback TCP), the guest command run with its arguments, the host's view of the guest's RAM
 * file read through its control service while the guest runs. The guest allocates and touches a
 * working set, frees it, and stays idle while page-reporting (100 ms delay) reports it: the host
 * discards the reported pages, so the RAM file's allocated bytes fall below their peak.
 */
class GuestRunIT {
  private static final long MEMORY = 128L << 20;

  @TempDir Path dir;

  /** What the host saw of the one guest while it was attached. */
  private record HostView(long peakRss, long lowestAfterPeak, int samples, long reportsCounter) {}

  private record GuestExit(int code, String out, String err) {}

  @Test
  void idleGuestReportsOverUnixSocketAndTheHostFileShrinks() throws Exception {
    HostConfig config = HostConfig.defaults().withStateBase(dir.resolve("state"));
    Path socket = dir.resolve("sock").resolve("host.sock");
    try (HostServer host = HostServer.start(config, HostAddress.unix(socket))) {
      check(host, "unix:" + socket);
    }
  }

  @Test
  void idleGuestReportsOverLoopbackTcp() throws Exception {
    HostConfig config = HostConfig.defaults().withStateBase(dir.resolve("state"));
    try (HostServer host = HostServer.start(config, HostAddress.tcp("127.0.0.1", 0))) {
      check(host, "127.0.0.1:" + host.address().port());
    }
  }

  private void check(HostServer host, String address) throws Exception {
    String[] args = {"run", "--host", address, "--memory", "128M", "--workload", "idle",
        "--strategy", "page-reporting", "--delay", "100ms", "--seconds", "4", "--seed", "3",
        "--exit-on-host-loss", "--json"};
    GuestExit[] exit = new GuestExit[1];
    Thread guest = new Thread(() -> exit[0] = runGuest(args), "guest-run-it");
    HostView view;
    try (HostChannel ch = HostChannel.open(host.address())) {
      guest.start();
      view = watch(ch, guest);
    }
    guest.join(TimeUnit.SECONDS.toMillis(30));
    assertFalse(guest.isAlive(), "the guest run ends, bounded");
    GuestExit g = exit[0];
    String ctx = "guest stdout: " + g.out() + "\nguest stderr: " + g.err() + "\nhost: " + view;
    assertEquals(0, g.code(), ctx);
    assertEquals("", g.err(), ctx);
    long reported = field(g.out(), "reported_bytes");
    assertTrue(reported > 0, ctx);
    assertEquals(0, field(g.out(), "lost_writes"), ctx);
    assertEquals(0, field(g.out(), "corrupt_pages"), ctx);
    assertEquals(0, field(g.out(), "invariant_violations"), ctx);
    assertEquals(MEMORY, field(g.out(), "guest_memory_bytes"), ctx);
    assertTrue(field(g.out(), "report_batches") > 0, ctx);
    assertTrue(g.out().contains("\"detached\": true"), ctx);
    assertTrue(view.samples() > 10, ctx + ": the host was watched while the guest ran");
    // The working set (30% of the free memory) was written, so the file grew...
    assertTrue(view.peakRss() >= MEMORY / 5, ctx);
    // ...and once it was freed and reported, the host discarded it: at most half is left. Not
    // tighter: pages the guest freed onto its per-cpu lists reach the buddy (and are reported)
    // only as decay_pcp_high() drains them, one second at a time, so the last batch can land
    // just before detach, after the last 50 ms sample (seen once: 39 % left at the last sample,
    // 113 MiB reported in 2 batches).
    assertTrue(view.lowestAfterPeak() <= view.peakRss() / 2, ctx);
    assertTrue(view.reportsCounter() > 0, ctx);
    assertTrue(host.registry().sessions().isEmpty(), ctx + ": the guest detached");
    System.out.printf("guest run IT %s: reported %d bytes in %d batches; host RAM file %d bytes"
            + " allocated at its peak, %d at the lowest after it%n", address, reported,
        field(g.out(), "report_batches"), view.peakRss(), view.lowestAfterPeak());
  }

  /** Polls the host's control service every 50 ms until the guest thread ends. */
  private static HostView watch(HostChannel ch, Thread guest) throws InterruptedException {
    long peak = 0;
    long rssPeak = 0;
    long lowestAfterPeak = Long.MAX_VALUE;
    long reports = 0;
    AtomicInteger samples = new AtomicInteger();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (guest.isAlive() && System.nanoTime() < end) {
      ListGuestsResponse r = HostControlGrpc.newBlockingStub(ch.channel())
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .listGuests(ListGuestsRequest.getDefaultInstance());
      if (r.getGuestsCount() == 1) {
        GuestStatus s = r.getGuests(0);
        peak = Math.max(peak, s.getRssPeakBytes());
        long rss = s.getRssBytes();
        if (rss > rssPeak) {
          rssPeak = rss;
          lowestAfterPeak = rss;
        } else {
          lowestAfterPeak = Math.min(lowestAfterPeak, rss);
        }
        reports = s.getCountersOrDefault("reports", reports);
        samples.incrementAndGet();
      }
      Thread.sleep(50);
    }
    return new HostView(peak, lowestAfterPeak, samples.get(), reports);
  }

  private static GuestExit runGuest(String[] args) {
    CommandLine cl = GuestMain.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new GuestExit(code, out.toString(), err.toString());
  }

  private static long field(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\": (-?\\d+)").matcher(json);
    assertTrue(m.find(), key + " in " + json);
    return Long.parseLong(m.group(1));
  }
}
