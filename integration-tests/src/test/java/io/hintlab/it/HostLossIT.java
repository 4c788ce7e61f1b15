package io.hintlab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.cli.GuestMain;
import io.hintlab.host.rpc.HostAddress;
import io.hintlab.host.rpc.HostConfig;
import io.hintlab.host.rpc.HostServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host goes away in the middle of a {@code guest run}: the guest notices (heartbeat or a
 * failed report), puts back any batch in flight unreported, and either stops at once ({@code
 * --exit-on-host-loss}) or reconnects with backoff; a host that comes back without the session
 * (a restart) has new, empty RAM, so the run stops with a message saying so. Either way the run
 * ends bounded, exit code 1, with the allocator's invariants intact.
 */
class HostLossIT {
  @TempDir Path dir;

  private record GuestExit(int code, String out, String err) {}

  @Test
  void shouldStopWithAClearMessageWhenTheHostDiesAndTheUserChoseToExit() throws Exception {
    Path socket = dir.resolve("sock").resolve("host.sock");
    HostServer host = HostServer.start(config("a"), HostAddress.unix(socket));
    Thread[] guest = new Thread[1];
    GuestExit[] exit = new GuestExit[1];
    try {
      guest[0] = startGuest(exit, "unix:" + socket, "--exit-on-host-loss");
      awaitAttached(host);
    } finally {
      host.close();
    }
    GuestExit g = join(guest[0], exit);
    String ctx = "stdout: " + g.out() + "\nstderr: " + g.err();
    assertEquals(1, g.code(), ctx);
    assertTrue(g.err().contains("unix:" + socket) || g.out().contains("unix:" + socket), ctx);
    assertEquals(0, field(g.out(), "invariant_violations"), ctx);
    assertFalse(g.out().contains("\"failure\": \"\""), ctx + ": the summary says why");
  }

  @Test
  void shouldStopWhenTheHostComesBackWithoutTheSession() throws Exception {
    Path socket = dir.resolve("sock").resolve("host.sock");
    HostServer host = HostServer.start(config("a"), HostAddress.unix(socket));
    Thread[] guest = new Thread[1];
    GuestExit[] exit = new GuestExit[1];
    try {
      guest[0] = startGuest(exit, "unix:" + socket, "--reconnect", "50");
      awaitAttached(host);
    } finally {
      host.close();
    }
    // A restarted host on the same socket: it answers, but knows nothing of the old session.
    try (HostServer restarted = HostServer.start(config("b"), HostAddress.unix(socket))) {
      GuestExit g = join(guest[0], exit);
      String ctx = "stdout: " + g.out() + "\nstderr: " + g.err();
      assertEquals(1, g.code(), ctx);
      assertTrue(g.out().contains("lost the session"), ctx);
      assertEquals(0, field(g.out(), "invariant_violations"), ctx);
      assertEquals(0, field(g.out(), "reconnects"), ctx + ": nothing was resumed");
    }
  }

  private HostConfig config(String state) {
    return HostConfig.defaults().withStateBase(dir.resolve("state-" + state));
  }

  private static Thread startGuest(GuestExit[] exit, String address, String... policy) {
    String[] base = {"run", "--host", address, "--memory", "64M", "--workload", "churn",
        "--delay", "50ms", "--seconds", "30", "--idle-seconds", "1", "--seed", "5", "--json"};
    String[] args = new String[base.length + policy.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(policy, 0, args, base.length, policy.length);
    Thread t = new Thread(() -> {
      var cl = GuestMain.commandLine();
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      cl.setOut(new PrintWriter(out, true));
      cl.setErr(new PrintWriter(err, true));
      int code = cl.execute(args);
      exit[0] = new GuestExit(code, out.toString(), err.toString());
    }, "host-loss-it-guest");
    t.start();
    return t;
  }

  /** Waits (bounded) until the guest has a session and has had time to write some pages. */
  private static void awaitAttached(HostServer host) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (host.registry().sessions().isEmpty()) {
      assertTrue(System.nanoTime() < end, "the guest attached within 20 s");
      Thread.sleep(20);
    }
    Thread.sleep(1500);
  }

  private static GuestExit join(Thread t, GuestExit[] exit) throws InterruptedException {
    t.join(TimeUnit.SECONDS.toMillis(60));
    assertFalse(t.isAlive(), "the guest run ends within 60 s of losing its host");
    return exit[0];
  }

  private static long field(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\": (-?\\d+)").matcher(json);
    assertTrue(m.find(), key + " in " + json);
    return Long.parseLong(m.group(1));
  }
}
