package io.hintlab.host.rpc;

import static io.hintlab.host.rpc.HostFixture.range;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import io.hintlab.host.device.HostMode;
import io.hintlab.proto.v1.AttachResponse;
import io.hintlab.proto.v1.ConfigEvent;
import io.hintlab.proto.v1.DetachRequest;
import io.hintlab.proto.v1.GetDeviceInfoRequest;
import io.hintlab.proto.v1.GuestMemoryMap;
import io.hintlab.proto.v1.GuestRef;
import io.hintlab.proto.v1.HeartbeatRequest;
import io.hintlab.proto.v1.HintRanges;
import io.hintlab.proto.v1.HintRequest;
import io.hintlab.proto.v1.HintResponse;
import io.hintlab.proto.v1.ListGuestsRequest;
import io.hintlab.proto.v1.MetricsRequest;
import io.hintlab.proto.v1.PausedRequest;
import io.hintlab.proto.v1.PfnArray;
import io.hintlab.proto.v1.RaceEventsRequest;
import io.hintlab.proto.v1.ReportRequest;
import io.hintlab.proto.v1.ReportResponse;
import io.hintlab.proto.v1.SetBalloonTargetRequest;
import io.hintlab.proto.v1.SetModeRequest;
import io.hintlab.proto.v1.Stat;
import io.hintlab.proto.v1.StatsRequest;
import io.hintlab.proto.v1.StopHintingRequest;
import io.hintlab.proto.v1.WatchConfigRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Every rpc of both services over an in-process channel. */
class BalloonServicesTest {
  private static final long MEM = 16L << 20;

  private static String idOf(HostFixture fx, String name) {
    return fx.control().listGuests(ListGuestsRequest.getDefaultInstance()).getGuestsList()
        .stream().filter(g -> g.getGuestName().equals(name)).findFirst().orElseThrow()
        .getGuestId();
  }

  /** Opens WatchConfig and returns the queue its events arrive in. */
  private static BlockingQueue<ConfigEvent> watch(HostFixture fx, String token,
      PausedRequest answer) {
    BlockingQueue<ConfigEvent> q = new LinkedBlockingQueue<>();
    fx.deviceAsync().watchConfig(WatchConfigRequest.newBuilder().setSessionToken(token).build(),
        new StreamObserver<>() {
          @Override
          public void onNext(ConfigEvent e) {
            q.add(e);
            if (e.getKind() == ConfigEvent.Kind.PAUSE && answer != null) {
              // answered from another thread, as a guest's watch thread would
              Thread.ofPlatform().name("test-guest-paused").start(() -> fx.device().paused(answer));
            }
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
    return q;
  }

  private static ConfigEvent next(BlockingQueue<ConfigEvent> q) throws InterruptedException {
    ConfigEvent e = q.poll(5, TimeUnit.SECONDS);
    assertTrue(e != null, "no config event within 5 s");
    return e;
  }

  @Test
  void shouldServeReportingEndToEnd() throws Exception {
    try (HostFixture fx = new HostFixture()) {
      var info = fx.device().getDeviceInfo(GetDeviceInfoRequest.getDefaultInstance());
      assertEquals(32, info.getReportingCapacity());
      assertEquals("discard", info.getHostMode());
      AttachResponse a = fx.attach("g", MEM);
      assertEquals(32, a.getSessionToken().length(), "128-bit token in hex");
      assertEquals(HostFixture.ALL_FEATURES, a.getNegotiatedFeatures());
      assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
          Files.getPosixFilePermissions(Path.of(a.getRamPath()))));
      HostFixture.write(a, 0, 2048);
      assertEquals(8L << 20, HostFixture.allocated(a));
      ReportResponse r = fx.device().report(ReportRequest.newBuilder()
          .setSessionToken(a.getSessionToken()).addRanges(range(0, 9)).addRanges(range(1024, 10))
          .build());
      assertEquals(1536, r.getDiscardedPages());
      assertEquals(2L << 20, HostFixture.allocated(a), "the memory really came back");
      String id = idOf(fx, "g");
      var st = fx.control().getGuest(GuestRef.newBuilder().setGuestId(id).build());
      assertEquals(2L << 20, st.getRssBytes());
      assertEquals(8L << 20, st.getRssPeakBytes());
      assertEquals(1536, st.getDiscardedPages());
      assertEquals(1, st.getCountersOrThrow("reports"));
      var metrics = fx.control().getMetrics(MetricsRequest.newBuilder().setGuestId(id).build());
      assertEquals(6L << 20, metrics.getGuests(0).getCountersOrThrow("reported_bytes"));
      assertTrue(fx.host.metrics().scrape().contains("hintlab_reports_total{guest=\"" + id));
      var map = fx.control().getMemoryMap(GuestRef.newBuilder().setGuestId(id).build());
      assertEquals(8, map.getPageblockStates().size());
      assertEquals(4, map.getPageblockStates().byteAt(0));
      assertEquals(4, map.getPageblockStates().byteAt(2));
      assertEquals(0, map.getPageblockStates().byteAt(1));
      var health = HealthGrpc.newBlockingStub(fx.channel.channel())
          .withDeadlineAfter(5, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance());
      assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
    }
  }

  @Test
  void shouldListEveryServiceThroughReflection() throws Exception {
    try (HostFixture fx = new HostFixture()) {
      BlockingQueue<ServerReflectionResponse> answers = new LinkedBlockingQueue<>();
      StreamObserver<ServerReflectionRequest> req = ServerReflectionGrpc.newStub(
              fx.channel.channel()).withDeadlineAfter(10, TimeUnit.SECONDS)
          .serverReflectionInfo(new StreamObserver<>() {
            @Override
            public void onNext(ServerReflectionResponse r) {
              answers.add(r);
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
          });
      req.onNext(ServerReflectionRequest.newBuilder().setListServices("*").build());
      ServerReflectionResponse r = answers.poll(5, TimeUnit.SECONDS);
      req.onCompleted();
      assertTrue(r != null, "no reflection answer within 5 s");
      var names = r.getListServicesResponse().getServiceList().stream()
          .map(io.grpc.reflection.v1.ServiceResponse::getName).toList();
      assertTrue(names.containsAll(java.util.List.of("hintlab.v1.BalloonDevice",
          "hintlab.v1.HostControl", "grpc.health.v1.Health")), names.toString());
    }
  }

  @Test
  void shouldDriveHintingRoundThroughConfigEvents() throws Exception {
    try (HostFixture fx = new HostFixture(HostMode.DISCARD_HINTS, Duration.ofSeconds(30), 4)) {
      AttachResponse a = fx.attach("h", MEM);
      String token = a.getSessionToken();
      BlockingQueue<ConfigEvent> events = watch(fx, token, null);
      assertEquals(ConfigEvent.Kind.CONFIG_CHANGED, next(events).getKind());
      String id = idOf(fx, "h");
      var st = fx.control().startHinting(GuestRef.newBuilder().setGuestId(id).build());
      assertEquals("S_REQUESTED", st.getHintingStatus());
      int cmd = next(events).getConfig().getFreePageHintCmdId();
      assertEquals(0x80000000, cmd);
      HostFixture.write(a, 0, 1024);
      fx.device().hint(HintRequest.newBuilder().setSessionToken(token).setStartCmdId(cmd).build());
      HintResponse r = fx.device().hint(HintRequest.newBuilder().setSessionToken(token)
          .setRanges(HintRanges.newBuilder().setCmdId(cmd).addRanges(range(0, 10))).build());
      assertEquals(1, r.getAppliedRanges());
      assertEquals(0, HostFixture.allocated(a), "discard-hints discards hinted blocks");
      HintResponse stale = fx.device().hint(HintRequest.newBuilder().setSessionToken(token)
          .setRanges(HintRanges.newBuilder().setCmdId(cmd - 1).addRanges(range(1024, 10)))
          .build());
      assertEquals(1, stale.getIgnoredRanges());
      fx.device().hint(HintRequest.newBuilder().setSessionToken(token).setStop(true).build());
      var done = fx.control().stopHinting(
          StopHintingRequest.newBuilder().setGuestId(id).setDone(true).build());
      assertEquals("S_DONE", done.getHintingStatus());
      assertEquals(1, done.getConfig().getFreePageHintCmdId());
      var races = fx.control().getRaceEvents(RaceEventsRequest.newBuilder().setGuestId(id)
          .build());
      assertEquals("stale_hint", races.getEvents(0).getKind());
      assertEquals(1024, races.getEvents(0).getPfn());
    }
  }

  @Test
  void shouldPauseResumeAndServeTheSmallQueues() throws Exception {
    try (HostFixture fx = new HostFixture()) {
      AttachResponse a = fx.attach("p", MEM);
      String token = a.getSessionToken();
      PausedRequest answer = PausedRequest.newBuilder().setSessionToken(token)
          .setOwnedBitmap(ByteString.copyFrom(new byte[] {1})).setLostWrites(3).build();
      BlockingQueue<ConfigEvent> events = watch(fx, token, answer);
      next(events);
      String id = idOf(fx, "p");
      var paused = fx.control().pauseGuest(GuestRef.newBuilder().setGuestId(id).build());
      assertTrue(paused.getPaused());
      assertEquals(3, paused.getCountersOrThrow("lost_writes"));
      assertEquals(ConfigEvent.Kind.PAUSE, next(events).getKind());
      assertFalse(fx.control().resumeGuest(GuestRef.newBuilder().setGuestId(id).build())
          .getPaused());
      assertEquals(ConfigEvent.Kind.RESUME, next(events).getKind());
      var target = fx.control().setBalloonTarget(
          SetBalloonTargetRequest.newBuilder().setGuestId(id).setNumPages(100).build());
      assertEquals(100, target.getConfig().getNumPages());
      assertEquals(100, next(events).getConfig().getNumPages());
      HostFixture.write(a, 0, 2);
      assertEquals(2, fx.device().inflate(PfnArray.newBuilder().setSessionToken(token)
          .addPfns(0).addPfns(1).build()).getProcessed());
      assertEquals(0, HostFixture.allocated(a));
      assertEquals(2, next(events).getConfig().getActual());
      assertEquals(1, fx.device().deflate(PfnArray.newBuilder().setSessionToken(token)
          .addPfns(1).build()).getProcessed());
      fx.device().stats(StatsRequest.newBuilder().setSessionToken(token)
          .addStats(Stat.newBuilder().setTag(4).setValue(1234)).build());
      fx.device().heartbeat(HeartbeatRequest.newBuilder().setSessionToken(token).build());
      fx.device().publishMemoryMap(GuestMemoryMap.newBuilder().setSessionToken(token)
          .setPageblockStates(ByteString.copyFrom(new byte[] {1, 2, 3})).putCounters("x", 5)
          .build());
      var map = fx.control().getMemoryMap(GuestRef.newBuilder().setGuestId(id).build());
      assertEquals(2, map.getPageblockStates().byteAt(1));
      var mode = fx.control().setMode(
          SetModeRequest.newBuilder().setGuestId(id).setMode("migrate").build());
      assertEquals("migrate", mode.getMode());
      fx.control().setMode(SetModeRequest.newBuilder().setMode("hint-wait-ack").build());
      var info = fx.device().getDeviceInfo(GetDeviceInfoRequest.getDefaultInstance());
      assertEquals("hint-wait-ack", info.getHostMode());
      assertTrue((info.getDeviceFeatures() & (1 << 6)) != 0, "bit 6 offered in hint-wait-ack");
      var st = fx.control().getGuest(GuestRef.newBuilder().setGuestId(id).build());
      assertEquals(1, st.getCountersOrThrow("stats_updates"));
      assertEquals("migrate", st.getHostMode());
      fx.device().detach(DetachRequest.newBuilder().setSessionToken(token).build());
      ConfigEvent last = next(events);
      while (last.getKind() == ConfigEvent.Kind.CONFIG_CHANGED) {
        last = next(events); // the deflate's config change comes first
      }
      assertEquals(ConfigEvent.Kind.SHUTDOWN, last.getKind());
      assertFalse(Files.exists(Path.of(a.getRamPath())), "detach frees the files");
    }
  }

  @Test
  void shouldServeMemfdBackedGuestAndFreeItOnDetach() throws Exception {
    Path base = io.hintlab.host.memory.StateDirs.defaultBase().resolve("memfd-test");
    try (HostServer host = HostServer.startInProcess(
            HostConfig.defaults().withStateBase(base).withMemfd(true));
        HostChannel ch = HostChannel.open(host.address())) {
      var stub = io.hintlab.proto.v1.BalloonDeviceGrpc.newBlockingStub(ch.channel())
          .withDeadlineAfter(10, TimeUnit.SECONDS);
      AttachResponse a = stub.attach(HostFixture.attachRequest("m", MEM,
          HostFixture.ALL_FEATURES));
      assertTrue(a.getRamPath().startsWith("/proc/"), a.getRamPath());
      HostFixture.write(a, 0, 1024);
      stub.report(ReportRequest.newBuilder().setSessionToken(a.getSessionToken())
          .addRanges(range(512, 9)).build());
      assertEquals(2L << 20, HostFixture.allocated(a));
      stub.detach(DetachRequest.newBuilder().setSessionToken(a.getSessionToken()).build());
      assertFalse(Files.exists(Path.of(a.getRamPath())), "the memfd is closed");
    } finally {
      io.hintlab.host.memory.StateDirs.deleteTree(base);
    }
  }

  @Test
  void shouldPauseGuestAroundHintDiscardOverGrpc() throws Exception {
    try (HostFixture fx = new HostFixture(HostMode.DISCARD_HINTS_PAUSED, Duration.ofSeconds(30),
        4)) {
      AttachResponse a = fx.attach("hp", MEM);
      String token = a.getSessionToken();
      BlockingQueue<ConfigEvent> events = watch(fx, token,
          PausedRequest.newBuilder().setSessionToken(token).build());
      next(events);
      String id = idOf(fx, "hp");
      fx.control().startHinting(GuestRef.newBuilder().setGuestId(id).build());
      int cmd = next(events).getConfig().getFreePageHintCmdId();
      HostFixture.write(a, 0, 2048);
      fx.device().hint(HintRequest.newBuilder().setSessionToken(token).setStartCmdId(cmd).build());
      HintResponse r = fx.device().hint(HintRequest.newBuilder().setSessionToken(token)
          .setRanges(HintRanges.newBuilder().setCmdId(cmd).addRanges(range(0, 10))
              .addRanges(range(1024, 10))).build());
      assertEquals(2, r.getAppliedRanges());
      assertEquals(ConfigEvent.Kind.PAUSE, next(events).getKind());
      assertEquals(ConfigEvent.Kind.RESUME, next(events).getKind());
      assertEquals(0, HostFixture.allocated(a), "hinted blocks discarded while paused");
      var st = fx.control().getGuest(GuestRef.newBuilder().setGuestId(id).build());
      assertFalse(st.getPaused());
      assertEquals(1, st.getCountersOrThrow("pauses"));
      assertEquals(0, st.getCountersOrThrow("races"));
    }
  }

  @Test
  void shouldFreeEveryGuestFileWhenHostStops() throws Exception {
    HostFixture fx = new HostFixture();
    AttachResponse a = fx.attach("s", MEM);
    Path hostDir = Path.of(a.getRamPath()).getParent();
    fx.close();
    assertFalse(Files.exists(Path.of(a.getRamPath())));
    assertFalse(Files.exists(hostDir), "the host's private directory is removed");
  }

  @Test
  void shouldKeepGuestsIsolated() throws Exception {
    try (HostFixture fx = new HostFixture()) {
      AttachResponse small = fx.attach("small", 4L << 20); // 1024 pages
      AttachResponse big = fx.attach("big", MEM);
      HostFixture.write(big, 0, 4096);
      long bigBefore = HostFixture.allocated(big);
      // pfn 2048 exists in the big guest but not in the small one: the token decides whose.
      var e = assertThrows(StatusRuntimeException.class, () -> fx.device().report(
          ReportRequest.newBuilder().setSessionToken(small.getSessionToken())
              .addRanges(range(2048, 9)).build()));
      assertEquals(Status.Code.OUT_OF_RANGE, e.getStatus().getCode());
      fx.device().report(ReportRequest.newBuilder().setSessionToken(small.getSessionToken())
          .addRanges(range(0, 9)).build());
      assertEquals(bigBefore, HostFixture.allocated(big), "small's report left big untouched");
      assertTrue(!small.getRamPath().equals(big.getRamPath()));
      assertEquals(0, fx.control().getGuest(GuestRef.newBuilder()
          .setGuestId(idOf(fx, "big")).build()).getCountersOrThrow("reports"));
    }
  }

  @Test
  void shouldRefuseTokensOfDetachedSessionsAndLimitGuests() throws Exception {
    try (HostFixture fx = new HostFixture(HostMode.DISCARD, Duration.ofSeconds(30), 1)) {
      AttachResponse a = fx.attach("one", MEM);
      var full = assertThrows(StatusRuntimeException.class, () -> fx.attach("two", MEM));
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, full.getStatus().getCode());
      fx.device().detach(DetachRequest.newBuilder().setSessionToken(a.getSessionToken()).build());
      var e = assertThrows(StatusRuntimeException.class, () -> fx.device().heartbeat(
          HeartbeatRequest.newBuilder().setSessionToken(a.getSessionToken()).build()));
      assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
      var bad = assertThrows(StatusRuntimeException.class, () -> fx.device().attach(
          HostFixture.attachRequest("x", MEM, 1L << 50)));
      assertEquals(Status.Code.INVALID_ARGUMENT, bad.getStatus().getCode());
      var page = assertThrows(StatusRuntimeException.class, () -> fx.device().attach(
          HostFixture.attachRequest("x", MEM, 0).toBuilder().setPageSize(8192).build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, page.getStatus().getCode());
      var noReporting = fx.attach("three", MEM);
      assertEquals(1, fx.control().listGuests(ListGuestsRequest.getDefaultInstance())
          .getGuestsCount());
      fx.device().detach(DetachRequest.newBuilder()
          .setSessionToken(noReporting.getSessionToken()).build());
      var plain = fx.device().attach(HostFixture.attachRequest("plain", MEM, 0));
      var pre = assertThrows(StatusRuntimeException.class, () -> fx.device().report(
          ReportRequest.newBuilder().setSessionToken(plain.getSessionToken())
              .addRanges(range(0, 9)).build()));
      assertEquals(Status.Code.FAILED_PRECONDITION, pre.getStatus().getCode());
    }
  }

  @Test
  void shouldFreeFilesWhenWatchStreamEndsAndLeaseExpires() throws Exception {
    try (HostFixture fx = new HostFixture(HostMode.DISCARD, Duration.ofMillis(200), 4)) {
      AttachResponse a = fx.attach("mortal", MEM);
      var ctx = io.grpc.Context.current().withCancellation();
      BlockingQueue<ConfigEvent> events = new LinkedBlockingQueue<>();
      ctx.run(() -> fx.deviceAsync().watchConfig(
          WatchConfigRequest.newBuilder().setSessionToken(a.getSessionToken()).build(),
          new StreamObserver<>() {
            @Override
            public void onNext(ConfigEvent e) {
              events.add(e);
            }

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
          }));
      next(events);
      Thread.sleep(500); // longer than the lease: the open stream keeps the session alive
      assertTrue(Files.exists(Path.of(a.getRamPath())), "an open stream keeps the guest alive");
      ctx.cancel(null); // the guest process died
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (Files.exists(Path.of(a.getRamPath())) && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertFalse(Files.exists(Path.of(a.getRamPath())), "files freed after the lease");
      assertFalse(Files.exists(Path.of(a.getDirtyLogPath())));
      var e = assertThrows(StatusRuntimeException.class, () -> fx.device().heartbeat(
          HeartbeatRequest.newBuilder().setSessionToken(a.getSessionToken()).build()));
      assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
    }
  }
}
