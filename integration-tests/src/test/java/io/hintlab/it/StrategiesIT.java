package io.hintlab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.cli.GuestMain;
import io.hintlab.host.device.HostMode;
import io.hintlab.host.rpc.HostAddress;
import io.hintlab.host.rpc.HostChannel;
import io.hintlab.host.rpc.HostConfig;
import io.hintlab.host.rpc.HostServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import io.hintlab.proto.v1.GuestRef;
import io.hintlab.proto.v1.GuestStatus;
import io.hintlab.proto.v1.HostControlGrpc;
import io.hintlab.proto.v1.StopHintingRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every reporting strategy against the real host service (a HostServer in this JVM on a Unix
 * socket, mode {@code discard}): {@code guest run} with the {@code churn} workload, so the guest
 * allocates and frees while the strategy reports, then idles so the last frees are reported too.
 * At the end the guest frees everything it holds, verifying every page (the lost-write check), and
 * runs the invariant checker; both must be clean, and the host must have discarded what was
 * reported.
 *
 * <p>{@code free-list-walk} hints blocks it leaves on the free lists, so an allocation can reuse
 * a block while its hint is in flight and the host then discards a page the guest has just
 * written: that strategy is checked for consistency (a lost write fails the run) rather than
 * for zero lost writes.
 *
 * <p>{@code hint-alloc-hold} is driven by the host: a hinting round started through the control
 * service (a new command id pushed to the guest), then DONE; the host runs in {@code
 * discard-hints} mode (Firecracker's behaviour) so the hinted blocks are really discarded.
 */
class StrategiesIT {
  private static final long MEMORY = 128L << 20;

  @TempDir Path dir;

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "page-reporting, ''",
    "isolate-report, ''",
    "bitmap-hinting, ''",
    "free-list-walk, ''",
  })
  void strategyReportsToTheRealHostWithNothingLost(String strategy, String extra)
      throws Exception {
    HostConfig config = HostConfig.defaults().withStateBase(dir.resolve("state"));
    Path socket = dir.resolve("sock").resolve("host.sock");
    try (HostServer host = HostServer.start(config, HostAddress.unix(socket))) {
      List<String> args = new ArrayList<>(List.of("run", "--host", "unix:" + socket,
          "--memory", "128M", "--workload", "churn", "--ops", "60000", "--strategy", strategy,
          "--delay", "50ms", "--seconds", "4", "--idle-seconds", "2", "--seed", "11",
          "--exit-on-host-loss", "--json"));
      if (!extra.isBlank()) {
        args.addAll(List.of(extra.split(" ")));
      }
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      var cl = GuestMain.commandLine();
      cl.setOut(new PrintWriter(out, true));
      cl.setErr(new PrintWriter(err, true));
      int code = cl.execute(args.toArray(String[]::new));
      String json = out.toString();
      String ctx = strategy + ": exit " + code + "\nstdout: " + json + "\nstderr: " + err;
      assertEquals(MEMORY, field(json, "guest_memory_bytes"), ctx);
      assertEquals(0, field(json, "invariant_violations"), ctx);
      assertEquals(0, field(json, "corrupt_pages"), ctx);
      assertTrue(field(json, "pages_verified") > 0, ctx + ": every freed page was verified");
      assertTrue(field(json, "reported_bytes") > 0, ctx);
      assertTrue(json.contains("\"detached\": true"), ctx);
      long lost = field(json, "lost_writes");
      if (strategy.equals("free-list-walk")) {
        assertEquals(lost > 0 ? 1 : 0, code, ctx + ": a lost write fails the run");
      } else {
        assertEquals(0, lost, ctx);
        assertEquals(0, code, ctx);
      }
      assertTrue(host.registry().sessions().isEmpty(), ctx + ": the guest detached");
      System.out.printf("strategies IT %s: reported %d bytes in %d batches, %d passes, "
              + "%d pages verified, %d lost writes%n", strategy, field(json, "reported_bytes"),
          field(json, "report_batches"), field(json, "report_passes"),
          field(json, "pages_verified"), lost);
    }
  }

  @Test
  void hintAllocHoldHintsARoundTheHostStartsAndReleasesItOnDone() throws Exception {
    HostConfig config = HostConfig.defaults().withStateBase(dir.resolve("state"))
        .withMode(HostMode.DISCARD_HINTS);
    Path socket = dir.resolve("sock").resolve("host.sock");
    try (HostServer host = HostServer.start(config, HostAddress.unix(socket));
        HostChannel ch = HostChannel.open(host.address())) {
      String[] args = {"run", "--host", "unix:" + socket, "--memory", "128M", "--workload",
          "idle", "--strategy", "hint-alloc-hold", "--seconds", "6", "--idle-seconds", "5",
          "--seed", "4", "--exit-on-host-loss", "--json"};
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int[] code = {-1};
      Thread guest = new Thread(() -> {
        var cl = GuestMain.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        code[0] = cl.execute(args);
      }, "strategies-it-hint-guest");
      guest.start();
      var control = HostControlGrpc.newBlockingStub(ch.channel());
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (host.registry().sessions().isEmpty()) {
        assertTrue(System.nanoTime() < end, "the guest attached within 20 s");
        Thread.sleep(20);
      }
      Thread.sleep(1500); // the idle workload has freed its working set by now
      String id = control.withDeadlineAfter(5, TimeUnit.SECONDS)
          .listGuests(io.hintlab.proto.v1.ListGuestsRequest.getDefaultInstance())
          .getGuests(0).getGuestId();
      GuestStatus started = control.withDeadlineAfter(5, TimeUnit.SECONDS)
          .startHinting(GuestRef.newBuilder().setGuestId(id).build());
      Thread.sleep(1500);
      GuestStatus during = control.withDeadlineAfter(5, TimeUnit.SECONDS)
          .getGuest(GuestRef.newBuilder().setGuestId(id).build());
      control.withDeadlineAfter(5, TimeUnit.SECONDS)
          .stopHinting(StopHintingRequest.newBuilder().setGuestId(id).setDone(true).build());
      guest.join(TimeUnit.SECONDS.toMillis(30));
      assertTrue(!guest.isAlive(), "the guest run ends, bounded");
      String json = out.toString();
      String ctx = "exit " + code[0] + "\nstdout: " + json + "\nstderr: " + err
          + "\nhost at start: " + started + "\nhost during: " + during;
      assertEquals(0, code[0], ctx);
      assertTrue(field(json, "hint_rounds") >= 1, ctx);
      long hinted = field(json, "hinted_pages");
      assertTrue(hinted * 4096 >= MEMORY / 2, ctx + ": a round takes most free memory");
      assertTrue(during.getCountersOrDefault("hint_discarded_pages", 0) > 0,
          ctx + ": the host discarded hinted pages");
      assertTrue(during.getRssBytes() < during.getRssPeakBytes() / 2,
          ctx + ": the hinted memory left the host's RAM file");
      assertEquals(0, field(json, "lost_writes"), ctx);
      assertEquals(0, field(json, "invariant_violations"), ctx);
      System.out.printf("strategies IT hint-alloc-hold: %d pages hinted in %d round(s); host RAM"
              + " file %d bytes during the round, %d at its peak%n", hinted,
          field(json, "hint_rounds"), during.getRssBytes(), during.getRssPeakBytes());
    }
  }

  private static long field(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\": (-?\\d+)").matcher(json);
    assertTrue(m.find(), key + " in " + json);
    return Long.parseLong(m.group(1));
  }
}
