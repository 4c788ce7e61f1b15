package io.hintlab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.cli.GuestMain;
import io.hintlab.host.rpc.HostAddress;
import io.hintlab.host.rpc.HostConfig;
import io.hintlab.host.rpc.HostServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

  private static long field(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\": (-?\\d+)").matcher(json);
    assertTrue(m.find(), key + " in " + json);
    return Long.parseLong(m.group(1));
  }
}
