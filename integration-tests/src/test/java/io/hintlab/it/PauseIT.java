package io.hintlab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.cli.GuestMain;
import io.hintlab.host.device.BalloonDevice;
import io.hintlab.host.rpc.HostAddress;
import io.hintlab.host.rpc.HostChannel;
import io.hintlab.host.rpc.HostConfig;
import io.hintlab.host.rpc.HostServer;
import io.hintlab.proto.v1.GuestRef;
import io.hintlab.proto.v1.GuestStatus;
import io.hintlab.proto.v1.HostControlGrpc;
import io.hintlab.proto.v1.ListGuestsRequest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A running {@code guest run} paused and resumed through the real host's control service
 * (PauseGuest waits for the guest's Paused answer, ResumeGuest pushes RESUME), a HostServer in
 * this JVM on a Unix socket. The owned-page answer reaches the host's device; nothing dirties the
 * guest's RAM between the answer and the resume (the host's own dirty log, synced at the pause
 * and again before the resume); the run then ends with exit code 0, no lost writes, one pause.
 */
class PauseIT {
  private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(30);

  @TempDir Path dir;

  @Test
  void aGuestPausedThroughTheControlServiceAnswersWithItsPagesAndFinishesClean()
      throws Exception {
    HostConfig config = HostConfig.defaults().withStateBase(dir.resolve("state"));
    Path socket = dir.resolve("sock").resolve("host.sock");
    try (HostServer host = HostServer.start(config, HostAddress.unix(socket));
        HostChannel ch = HostChannel.open(host.address())) {
      String[] args = {"run", "--host", "unix:" + socket, "--memory", "128M", "--workload",
          "churn", "--ops", "200000", "--strategy", "page-reporting", "--delay", "100ms",
          "--seconds", "6", "--seed", "5", "--stats-interval", "100ms", "--exit-on-host-loss",
          "--json"};
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int[] code = {-1};
      Thread guest = new Thread(() -> {
        var cl = GuestMain.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        code[0] = cl.execute(args);
      }, "pause-it-guest");
      guest.start();
      var control = HostControlGrpc.newBlockingStub(ch.channel());
      long end = System.nanoTime() + WAIT_NANOS;
      while (host.registry().sessions().isEmpty()
          || host.registry().sessions().get(0).device().memory().allocatedBytes() < (8 << 20)) {
        assertTrue(System.nanoTime() < end, "the guest attached and wrote 8 MiB within 30 s");
        Thread.sleep(20);
      }
      String id = control.withDeadlineAfter(5, TimeUnit.SECONDS)
          .listGuests(ListGuestsRequest.getDefaultInstance()).getGuests(0).getGuestId();
      BalloonDevice device = host.registry().byId(id).device();
      GuestRef ref = GuestRef.newBuilder().setGuestId(id).build();

      GuestStatus paused = control.withDeadlineAfter(10, TimeUnit.SECONDS).pauseGuest(ref);
      device.memory().syncAllDirty(null); // the stop-and-copy's view: clean from here on
      BitSet owned = BitSet.valueOf(device.ownedBitmap());
      long lostAtPause = device.lostWrites();
      Thread.sleep(300); // let the guest's threads try: a workload, a reporter, stats at 100 ms
      long dirtiedWhilePaused = device.memory().syncAllDirty(null);
      GuestStatus resumed = control.withDeadlineAfter(5, TimeUnit.SECONDS).resumeGuest(ref);

      guest.join(TimeUnit.SECONDS.toMillis(30));
      assertFalse(guest.isAlive(), "the guest run ends, bounded");
      String json = out.toString();
      String ctx = "exit " + code[0] + "\nstdout: " + json + "\nstderr: " + err
          + "\nhost paused: " + paused;
      assertTrue(paused.getPaused(), ctx);
      assertEquals(1, paused.getCountersOrDefault("pauses", 0), ctx);
      assertFalse(resumed.getPaused(), ctx);
      assertTrue(owned.cardinality() > 0, ctx + ": the answer listed the workload's pages");
      assertEquals(0, lostAtPause, ctx);
      assertEquals(0, dirtiedWhilePaused, ctx + ": nothing written while paused");
      assertEquals(0, code[0], ctx);
      assertEquals(0, field(json, "lost_writes"), ctx);
      assertEquals(0, field(json, "corrupt_pages"), ctx);
      assertEquals(1, field(json, "paused_count"), ctx);
      assertEquals(owned.cardinality(), field(json, "paused_owned_pages"), ctx);
      assertTrue(field(json, "init_on_alloc_pages") > 0, ctx);
      assertTrue(json.contains("\"detached\": true"), ctx);
      System.out.printf("pause IT: %d owned pages at the pause, paused %d ms, %d pages zeroed"
              + " on allocation%n", owned.cardinality(), field(json, "paused_ms_total"),
          field(json, "init_on_alloc_pages"));
    }
  }

  private static long field(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\": (-?\\d+)").matcher(json);
    assertTrue(m.find(), key + " in " + json);
    return Long.parseLong(m.group(1));
  }
}
