package io.hintlab.host.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.host.memory.StateDirs;
import io.hintlab.host.rpc.HostAddress;
import io.hintlab.host.rpc.HostChannel;
import io.hintlab.host.rpc.HostConfig;
import io.hintlab.host.rpc.HostServer;
import io.hintlab.proto.v1.BalloonDeviceGrpc;
import io.hintlab.proto.v1.AttachRequest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class HostCliTest {
  /** Runs the command line; returns exit code, stdout and stderr. */
  private record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    CommandLine cl = HostMain.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err));
    PrintStream saved = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      int code = cl.execute(args);
      return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString());
    } finally {
      System.setOut(saved);
    }
  }

  @Test
  void shouldExplainThatNoHostIsRunning() {
    Run r = run("host", "status", "--socket", "/tmp/hintlab-no-such-dir/host.sock");
    assertEquals(1, r.code());
    assertTrue(r.err().contains("no host is running at unix:/tmp/hintlab-no-such-dir/host.sock"),
        r.err());
    assertTrue(!r.err().contains("\tat "), "no stack trace");
  }

  @Test
  void shouldRejectBadOptionsWithExitCode2() {
    Run mode = run("host", "serve", "--mode", "bogus");
    assertEquals(2, mode.code());
    assertTrue(mode.err().contains("unknown host mode 'bogus'"), mode.err());
    Run listen = run("host", "status", "--listen", "localhost");
    assertEquals(2, listen.code());
    assertTrue(listen.err().contains("HOST:PORT"), listen.err());
    Run wide = run("host", "serve", "--listen", "0.0.0.0:7070");
    assertEquals(2, wide.code());
    assertTrue(wide.err().contains("--listen must be a loopback address"), wide.err());
    Run named = run("host", "serve", "--listen", "example.org:7070");
    assertEquals(2, named.code(), "names are never resolved to decide where to listen");
    Run order = run("bench", "reclaim", "--order", "12");
    assertEquals(2, order.code());
    assertTrue(order.err().contains("--order must be in [0, 10]"), order.err());
  }

  @Test
  void shouldShowGuestsOfRunningHost() throws Exception {
    Path dir = StateDirs.createHostDir(StateDirs.defaultBase());
    Path socket = dir.resolve("s").resolve("host.sock");
    try (HostServer host = HostServer.start(
            HostConfig.defaults().withStateBase(dir.resolve("state")), HostAddress.unix(socket));
        HostChannel ch = HostChannel.open(host.address())) {
      BalloonDeviceGrpc.newBlockingStub(ch.channel()).withDeadlineAfter(5, TimeUnit.SECONDS)
          .attach(AttachRequest.newBuilder().setGuestName("cli-guest").setMemoryBytes(4L << 20)
              .setPageSize(4096).setDriverFeatures(1L << 5).build());
      Run table = run("host", "status", "--socket", socket.toString());
      assertEquals(0, table.code(), table.err());
      assertTrue(table.out().contains("1 guest(s)"), table.out());
      assertTrue(table.out().contains("cli-guest"), table.out());
      Run json = run("host", "status", "--socket", socket.toString(), "--json");
      assertEquals(0, json.code(), json.err());
      assertTrue(json.out().contains("\"guest_name\": \"cli-guest\""), json.out());
      assertTrue(json.out().contains("\"memory_bytes\": 4194304"), json.out());
    } finally {
      StateDirs.deleteTree(dir.resolve("state"));
      StateDirs.deleteTree(dir.resolve("s"));
      StateDirs.deleteTree(dir);
    }
  }

  @Test
  void shouldRunSmallReclaimBenchmarkAndPrintJsonFields() {
    Run r = run("bench", "reclaim", "--memory-mib", "8", "--passes", "1", "--warmup-ms", "50",
        "--json");
    assertEquals(0, r.code(), r.err());
    for (String f : new String[] {"reclaim_bytes_per_sec", "raw_punch_hole_bytes_per_sec",
        "ratio", "report_rtt_p50_us", "report_rtt_p99_us"}) {
      assertTrue(r.out().contains("\"" + f + "\": "), f + " missing in " + r.out());
    }
  }

  @Test
  void shouldEscapeJson() {
    assertEquals("{\n  \"a\\\"b\": [\n    1,\n    \"x\\ny\"\n  ]\n}",
        JsonOut.write(java.util.Map.of("a\"b", java.util.List.of(1, "x\ny"))));
  }
}
