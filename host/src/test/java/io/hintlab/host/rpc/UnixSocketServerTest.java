package io.hintlab.host.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.host.memory.StateDirs;
import io.hintlab.proto.v1.BalloonDeviceGrpc;
import io.hintlab.proto.v1.GetDeviceInfoRequest;
import io.hintlab.proto.v1.HostControlGrpc;
import io.hintlab.proto.v1.ListGuestsRequest;
import io.hintlab.proto.v1.ReportRequest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The real transport: a Unix domain socket (0600 in a 0700 directory), TCP, and /metrics. */
class UnixSocketServerTest {
  private Path dir;
  private HostConfig config;

  @BeforeEach
  void setUp() throws IOException {
    dir = StateDirs.createHostDir(StateDirs.defaultBase());
    config = HostConfig.defaults().withStateBase(dir.resolve("state"));
  }

  @AfterEach
  void tearDown() {
    StateDirs.deleteTree(dir.resolve("state"));
    StateDirs.deleteTree(dir.resolve("sock"));
    StateDirs.deleteTree(dir);
  }

  @Test
  void shouldServeOnPrivateUnixSocket() throws Exception {
    Path socket = dir.resolve("sock").resolve("host.sock");
    try (HostServer host = HostServer.start(config, HostAddress.unix(socket));
        HostChannel ch = HostChannel.open(host.address())) {
      assertEquals("rw-------",
          PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
      assertEquals("rwx------",
          PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())));
      var info = BalloonDeviceGrpc.newBlockingStub(ch.channel())
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .getDeviceInfo(GetDeviceInfoRequest.getDefaultInstance());
      assertEquals(32, info.getReportingCapacity());
      var a = BalloonDeviceGrpc.newBlockingStub(ch.channel())
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .attach(HostFixture.attachRequest("uds", 4L << 20, HostFixture.ALL_FEATURES));
      HostFixture.write(a, 0, 512);
      BalloonDeviceGrpc.newBlockingStub(ch.channel()).withDeadlineAfter(5, TimeUnit.SECONDS)
          .report(ReportRequest.newBuilder().setSessionToken(a.getSessionToken())
              .addRanges(HostFixture.range(0, 9)).build());
      assertEquals(0, HostFixture.allocated(a));
      var second = assertThrows(IOException.class,
          () -> HostServer.start(config, HostAddress.unix(socket)));
      assertTrue(second.getMessage().contains("already listening"), second.getMessage());
    }
    assertFalse(Files.exists(socket), "stop removes the socket");
  }

  @Test
  void shouldRefuseSocketDirectoryOpenToOthers() throws IOException {
    Path open = dir.resolve("sock");
    Files.createDirectories(open);
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
    var e = assertThrows(IOException.class,
        () -> HostServer.start(config, HostAddress.unix(open.resolve("h.sock"))));
    assertTrue(e.getMessage().contains("0700"), e.getMessage());
  }

  @Test
  void shouldServeTcpAndPrometheusText() throws Exception {
    try (HostServer host = HostServer.start(config, HostAddress.tcp("127.0.0.1", 0));
        HostChannel ch = HostChannel.open(host.address());
        MetricsHttpServer http = new MetricsHttpServer(host.metrics(), 0)) {
      BalloonDeviceGrpc.newBlockingStub(ch.channel()).withDeadlineAfter(5, TimeUnit.SECONDS)
          .attach(HostFixture.attachRequest("tcp", 4L << 20, HostFixture.ALL_FEATURES));
      assertEquals(1, HostControlGrpc.newBlockingStub(ch.channel())
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .listGuests(ListGuestsRequest.getDefaultInstance()).getGuestsCount());
      try (HttpClient client = HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(5)).build()) {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + http.port() + "/metrics"))
            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("hintlab_reports_total{guest=\"guest-1\"} 0.0"), r.body());
        assertTrue(r.body().contains("hintlab_rss_bytes"), r.body());
        // One counter per feature (issue 4's list), monotonic, as Prometheus counters.
        for (String c : new String[] {"reports", "reported_bytes", "discard_failures", "hints",
            "stale_hints", "refaults", "races", "inflated_pages", "deflated_pages"}) {
          assertTrue(r.body().contains("# TYPE hintlab_" + c + "_total counter"), c);
        }
        // Levels that fall (a refault lowers discarded_pages) must be gauges, never counters.
        for (String g : new String[] {"discarded_pages", "hinted_pages_now", "ballooned_pages"}) {
          assertTrue(r.body().contains("# TYPE hintlab_" + g + " gauge"), g + " in " + r.body());
          assertFalse(r.body().contains("hintlab_" + g + "_total"), g);
        }
      }
    }
  }
}
