package io.hintlab.guest.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.after;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.timeout;
import static org.mockito.Mockito.verify;

import io.grpc.Status;
import io.hintlab.guest.reporting.ReportException;
import io.hintlab.guest.reporting.ReportSink;
import io.hintlab.guest.transport.FakeBalloonDevice.Action;
import io.hintlab.guest.transport.FakeBalloonDevice.Rpc;
import io.hintlab.guest.transport.TransportException.Reason;
import io.hintlab.proto.v1.AttachRequest;
import io.hintlab.proto.v1.ConfigEvent;
import io.hintlab.proto.v1.PageRange;
import io.hintlab.proto.v1.ReportRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.mockito.ArgumentCaptor;

/**
 * The client against a scripted fake device on an in-process channel: attach and negotiation,
 * the reporting queue, deadlines against a hung host, every mapped status, the heartbeat, the
 * config stream and detach.
 */
class DeviceClientTest {
  private static final Duration SHORT = Duration.ofMillis(300);
  private static final AttachSpec SPEC =
      new AttachSpec("t", 64L << 20, 4096, 10, DriverWishes.linuxDefaults());

  private InProcessHost host;
  private FakeBalloonDevice fake;
  private DeviceClient client;

  @BeforeEach
  void setUp() throws Exception {
    host = new InProcessHost();
    fake = host.fake;
    client = new DeviceClient(host.channel, CallDeadlines.uniform(Duration.ofSeconds(5)));
  }

  @AfterEach
  void tearDown() throws Exception {
    client.close();
    host.close();
  }

  // ---- attach ----

  @Test
  void attachShouldNegotiateAndReturnTheSession() throws Exception {
    DeviceSession s = client.attach(SPEC);
    AttachRequest req = fake.attaches.getFirst();
    // Linux defaults against QEMU's offer: everything but PAGE_POISON (no poisoning).
    assertEquals(FakeBalloonDevice.ALL_FEATURES & ~(1L << 4), req.getDriverFeatures());
    assertEquals(0, req.getPoisonVal());
    assertEquals(64L << 20, req.getMemoryBytes());
    assertEquals(4096, req.getPageSize());
    assertEquals(10, req.getMaxOrder());
    assertEquals(ProcessHandle.current().pid(), req.getPid());
    assertEquals("token-1", s.token());
    assertEquals(req.getDriverFeatures(), s.features().accepted());
    assertEquals(Path.of("/dev/shm/fake/guest-1.ram"), s.ramPath());
    assertEquals(Path.of("/dev/shm/fake/guest-1.dirty"), s.dirtyLogPath());
    assertEquals(32, s.reportingCapacity());
    assertEquals(0, s.reportingOrder());
    assertEquals(4096, s.pageSize());
    assertEquals(16384, s.pages());
    assertEquals(Duration.ofSeconds(10), s.lease());
    assertEquals(new ConfigSpace(0, 0, VirtioBalloon.VIRTIO_BALLOON_CMD_ID_STOP, 0), s.config());
    assertEquals(s, client.session().orElseThrow());
    assertFalse(s.toString().contains("token-1"), "the token is a secret: " + s);
  }

  @Test
  void attachShouldSendThePoisonValueWhenFreePagesArePoisoned() throws Exception {
    DeviceSession s = client.attach(new AttachSpec("t", 64L << 20, 4096, 10,
        DriverWishes.linuxDefaults().withPoison(VirtioBalloon.PAGE_POISON_VAL)));
    assertEquals(FakeBalloonDevice.ALL_FEATURES, fake.attaches.getFirst().getDriverFeatures());
    assertEquals(VirtioBalloon.PAGE_POISON_VAL, fake.attaches.getFirst().getPoisonVal());
    assertEquals(VirtioBalloon.PAGE_POISON_VAL, s.config().poisonVal());
  }

  @Test
  void attachShouldDropReportingWhenPoisonedPagesCannotBeToldToTheDevice() throws Exception {
    fake.offer(FakeBalloonDevice.ALL_FEATURES & ~(1L << 4), 32); // no PAGE_POISON (Firecracker)
    DeviceSession s = client.attach(new AttachSpec("t", 64L << 20, 4096, 10,
        DriverWishes.linuxDefaults().withInitOnFree()));
    assertFalse(s.has(VirtioBalloon.VIRTIO_BALLOON_F_PAGE_REPORTING), s.toString());
    assertTrue(s.has(VirtioBalloon.VIRTIO_BALLOON_F_FREE_PAGE_HINT), s.toString());
    TransportException e = assertThrows(TransportException.class,
        () -> client.reportBatch(new long[] {0}, new int[] {9}, 1));
    assertEquals(Reason.NOT_NEGOTIATED, e.reason());
    assertEquals(0, fake.calls(Rpc.REPORT), "refused locally, no round trip");
  }

  @Test
  void attachShouldNotOpenASessionWhenTheProbeRefusesTheDevice() {
    fake.offer(FakeBalloonDevice.ALL_FEATURES, 16);
    TransportException e = assertThrows(TransportException.class, () -> client.attach(SPEC));
    assertEquals(Reason.NOT_NEGOTIATED, e.reason());
    assertEquals(0, fake.calls(Rpc.ATTACH));
    assertTrue(client.session().isEmpty());
  }

  @Test
  void attachShouldRefuseAHostThatNegotiatedOtherFeaturesAndDetachIt() {
    fake.tamperAttach(r -> r.toBuilder().setNegotiatedFeatures(FakeBalloonDevice.ALL_FEATURES)
        .build());
    TransportException e = assertThrows(TransportException.class, () -> client.attach(SPEC));
    assertEquals(Reason.HOST_FAILED, e.reason());
    assertTrue(e.getMessage().contains("but the driver accepted"), e.getMessage());
    assertEquals(1, fake.calls(Rpc.DETACH), "the half-open session is detached");
    assertTrue(client.session().isEmpty());
  }

  @Test
  void attachTwiceShouldBeRefused() throws Exception {
    client.attach(SPEC);
    assertThrows(IllegalStateException.class, () -> client.attach(SPEC));
  }

  // ---- report ----

  @Test
  void reportShouldCarryTheTokenAndTheRangesAndReturnTheAck() throws Exception {
    DeviceSession s = client.attach(SPEC);
    long[] pfns = {512, 1024, 4096, 99};
    int[] orders = {9, 9, 10, 0};
    ReportAck ack = client.reportBatch(pfns, orders, 3); // the 4th entry is not part of the batch
    ReportRequest req = fake.reports.getFirst();
    assertEquals(s.token(), req.getSessionToken());
    assertEquals(List.of(range(512, 9), range(1024, 9), range(4096, 10)), req.getRangesList());
    assertEquals(new ReportAck(512 + 512 + 1024, 0, 0), ack);
  }

  @Test
  void reportShouldRefuseProgrammerErrorsBeforeAnyCall() throws Exception {
    assertThrows(IllegalStateException.class,
        () -> client.reportBatch(new long[] {0}, new int[] {0}, 1));
    client.attach(SPEC);
    assertThrows(IllegalArgumentException.class,
        () -> client.reportBatch(new long[0], new int[0], 0));
    assertThrows(IllegalArgumentException.class,
        () -> client.reportBatch(new long[33], new int[33], 33)); // capacity 32
    assertThrows(IllegalArgumentException.class,
        () -> client.reportBatch(new long[2], new int[1], 2));
    assertEquals(0, fake.calls(Rpc.REPORT));
  }

  @Test
  void aHungHostShouldYieldHostGoneWithinTheDeadline() throws Exception {
    DeviceClient hurried = new DeviceClient(host.channel, CallDeadlines.uniform(SHORT));
    try {
      hurried.attach(SPEC);
      fake.script(Rpc.REPORT, Action.hang());
      long t0 = System.nanoTime();
      TransportException e = assertThrows(TransportException.class,
          () -> hurried.reportBatch(new long[] {0}, new int[] {9}, 1));
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertEquals(Reason.HOST_GONE, e.reason());
      assertEquals(Status.Code.DEADLINE_EXCEEDED, e.status().orElseThrow());
      assertTrue(ms >= SHORT.toMillis() - 50 && ms < SHORT.toMillis() + 700, ms + " ms");
      assertTrue(fake.awaitCancelled(1, Duration.ofSeconds(2)), "the host saw the deadline");
    } finally {
      hurried.close();
    }
  }

  @Test
  void aHostGoingAwayMidBatchShouldYieldHostGoneAtOnce() throws Exception {
    client.attach(SPEC);
    fake.script(Rpc.REPORT, Action.hang());
    ExecutorService stopper = Executors.newSingleThreadExecutor(
        Thread.ofPlatform().name("test-host-stopper").daemon().factory());
    try {
      Future<?> stop = stopper.submit(() -> {
        assertTrue(fake.awaitCalls(Rpc.REPORT, 1, Duration.ofSeconds(2)));
        host.stop();
        return null;
      });
      long t0 = System.nanoTime();
      TransportException e = assertThrows(TransportException.class,
          () -> client.reportBatch(new long[] {0}, new int[] {9}, 1));
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertEquals(Reason.HOST_GONE, e.reason());
      assertTrue(ms < 2_000, "long before the 5 s deadline: " + ms + " ms");
      stop.get(5, TimeUnit.SECONDS);
    } finally {
      stopper.shutdownNow();
      assertTrue(stopper.awaitTermination(2, TimeUnit.SECONDS));
    }
  }

  @Test
  void asAReportSinkShouldReturnOnlyOnceTheHostAcknowledged() throws Exception {
    DeviceSession s = client.attach(SPEC);
    ReportSink sink = client;
    sink.report(new long[] {2048}, new int[] {9}, 1);
    assertEquals(List.of(range(2048, 9)), fake.reports.getFirst().getRangesList());
    assertEquals(s.token(), fake.reports.getFirst().getSessionToken());
  }

  @Test
  void asAReportSinkShouldFailTheBatchWithTheReasonAsCause() throws Exception {
    DeviceClient hurried = new DeviceClient(host.channel, CallDeadlines.uniform(SHORT));
    try {
      ReportSink sink = hurried;
      ReportException noSession = assertThrows(ReportException.class,
          () -> sink.report(new long[] {0}, new int[] {9}, 1));
      assertEquals(Reason.SESSION_LOST,
          ((TransportException) noSession.getCause()).reason(), noSession.getMessage());
      assertEquals(0, fake.calls(Rpc.REPORT));

      hurried.attach(SPEC);
      fake.script(Rpc.REPORT, Action.hang());
      ReportException hung = assertThrows(ReportException.class,
          () -> sink.report(new long[] {0}, new int[] {9}, 1));
      assertEquals(Reason.HOST_GONE, ((TransportException) hung.getCause()).reason());
      assertTrue(hung.getMessage().startsWith("Report: host gone (DEADLINE_EXCEEDED"),
          hung.getMessage());
    } finally {
      hurried.close();
    }
  }

  @ParameterizedTest
  @EnumSource(value = Status.Code.class, mode = EnumSource.Mode.EXCLUDE, names = "OK")
  void eachStatusShouldMapToItsReason(Status.Code code) throws Exception {
    client.attach(SPEC);
    fake.script(Rpc.REPORT, Action.fail(code, "scripted " + code));
    TransportException e = assertThrows(TransportException.class,
        () -> client.reportBatch(new long[] {0}, new int[] {9}, 1));
    assertEquals(TransportExceptionTest.TABLE.get(code), e.reason(), e.getMessage());
    assertEquals(code, e.status().orElseThrow());
    assertEquals("Report", e.rpc());
    assertTrue(e.getMessage().contains("scripted " + code), e.getMessage());
  }

  @Test
  void anInterruptedReportShouldBeCancelledAndKeepTheInterrupt() throws Exception {
    client.attach(SPEC);
    fake.script(Rpc.REPORT, Action.hang());
    Thread.currentThread().interrupt();
    try {
      TransportException e = assertThrows(TransportException.class,
          () -> client.reportBatch(new long[] {0}, new int[] {9}, 1));
      assertEquals(Reason.CANCELLED, e.reason());
      assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is kept");
    } finally {
      Thread.interrupted();
    }
  }

  // ---- the other queues ----

  @Test
  void everyQueueShouldCarryTheToken() throws Exception {
    DeviceSession s = client.attach(SPEC);
    client.hintStart(0x80000001);
    HintAck h = client.hintRanges(0x80000001, new long[] {1024, 2048}, new int[] {10, 10}, 2);
    assertEquals(2, h.appliedRanges());
    client.hintStop();
    assertEquals(3, client.inflate(new long[] {1, 2, 3}, 3));
    assertEquals(2, client.deflate(new long[] {1, 2, 3}, 2));
    client.stats(new int[] {4, 5}, new long[] {1L << 20, 64L << 20}, 2);
    client.paused(new byte[] {1, 2}, 0);
    client.publishMemoryMap(new byte[] {1, 2, 3}, Map.of("lost_writes", 0L));
    client.heartbeat();
    assertEquals(9, fake.tokens.size());
    assertTrue(fake.tokens.stream().allMatch(s.token()::equals), fake.tokens.toString());
    assertEquals(0x80000001, fake.hints.get(0).getStartCmdId());
    assertEquals(0x80000001, fake.hints.get(1).getRanges().getCmdId());
    assertTrue(fake.hints.get(2).getStop());
    assertThrows(IllegalArgumentException.class, () -> client.inflate(new long[257], 257));
  }

  // ---- heartbeat ----

  @Test
  void heartbeatShouldKeepGoingAndStopOnCloseWithinABoundedTime() throws Exception {
    DeviceSession s = client.attach(SPEC);
    List<TransportException> failures = new CopyOnWriteArrayList<>();
    Heartbeat h = client.startHeartbeat(Duration.ofMillis(20), failures::add);
    assertTrue(fake.awaitCalls(Rpc.HEARTBEAT, 5, Duration.ofSeconds(2)));
    assertTrue(h.running());
    assertTrue(h.beats() >= 4, "beats " + h.beats());
    assertTrue(fake.tokens.stream().allMatch(s.token()::equals));
    assertTrue(heartbeatThreadAlive());

    long t0 = System.nanoTime();
    h.close();
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertTrue(ms < Heartbeat.CLOSE_TIMEOUT.toMillis(), "close took " + ms + " ms");
    int after = fake.calls(Rpc.HEARTBEAT);
    Thread.sleep(100);
    assertEquals(after, fake.calls(Rpc.HEARTBEAT), "no beat after close");
    assertFalse(h.running());
    assertFalse(heartbeatThreadAlive());
    assertTrue(failures.isEmpty(), failures.toString());
  }

  @Test
  void heartbeatCloseShouldInterruptABeatTheHostHolds() throws Exception {
    client.attach(SPEC); // deadlines are 5 s: only the interrupt can end the held beat quickly
    fake.always(Rpc.HEARTBEAT, Action.hang());
    List<TransportException> failures = new CopyOnWriteArrayList<>();
    Heartbeat h = client.startHeartbeat(Duration.ofMillis(10), failures::add);
    assertTrue(fake.awaitCalls(Rpc.HEARTBEAT, 1, Duration.ofSeconds(2)));
    long t0 = System.nanoTime();
    h.close();
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertTrue(ms < 1_000, "close took " + ms + " ms");
    assertFalse(heartbeatThreadAlive());
    assertTrue(fake.awaitCancelled(1, Duration.ofSeconds(2)), "the held beat was cancelled");
    assertTrue(failures.isEmpty(), "closing is not a host failure: " + failures);
  }

  @Test
  void heartbeatShouldGoOnAfterHostGoneAndStopAfterSessionLost() throws Exception {
    client.attach(SPEC);
    fake.script(Rpc.HEARTBEAT, Action.fail(Status.Code.UNAVAILABLE, "blip"));
    List<TransportException> failures = new CopyOnWriteArrayList<>();
    Heartbeat h = client.startHeartbeat(Duration.ofMillis(10), failures::add);
    assertTrue(fake.awaitCalls(Rpc.HEARTBEAT, 3, Duration.ofSeconds(2)));
    assertEquals(Reason.HOST_GONE, failures.getFirst().reason());
    assertTrue(h.running(), "a host that blinked may come back");

    fake.expireSessions();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    while (h.running() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertFalse(h.running(), "a dead token is not beaten on");
    assertEquals(Reason.SESSION_LOST, failures.getLast().reason());
    h.close();
  }

  @Test
  void aFailureListenerMayCloseTheClientFromTheHeartbeatThread() throws Exception {
    client.attach(SPEC);
    fake.always(Rpc.HEARTBEAT, Action.fail(Status.Code.UNAVAILABLE, "gone"));
    List<Long> closeMillis = new CopyOnWriteArrayList<>();
    Heartbeat h = client.startHeartbeat(Duration.ofMillis(10), e -> {
      long t0 = System.nanoTime();
      client.close();
      closeMillis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    while ((closeMillis.isEmpty() || h.running()) && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertEquals(1, closeMillis.size(), "one failure, then closed");
    assertTrue(closeMillis.getFirst() < 500, "no wait for itself: " + closeMillis);
    assertFalse(h.running());
    h.close(); // from the test thread afterwards: joins the finished thread
    assertFalse(heartbeatThreadAlive());
  }

  @Test
  void startHeartbeatShouldDeriveTheIntervalFromTheLease() throws Exception {
    fake.lease(Duration.ofMillis(90)); // a third: 30 ms
    client.attach(SPEC);
    try (Heartbeat h = client.startHeartbeat(e -> { })) {
      assertTrue(fake.awaitCalls(Rpc.HEARTBEAT, 3, Duration.ofSeconds(2)));
      assertTrue(h.running());
    }
  }

  // ---- config stream ----

  @Test
  void configEventsShouldReachTheListener() throws Exception {
    client.attach(SPEC);
    ConfigListener listener = mock(ConfigListener.class);
    ConfigWatch w = client.watchConfig(listener);
    ArgumentCaptor<ConfigUpdate> first = ArgumentCaptor.forClass(ConfigUpdate.class);
    verify(listener).onUpdate(first.capture()); // delivered before watchConfig returned
    assertEquals(ConfigUpdate.Kind.CONFIG_CHANGED, first.getValue().kind());
    assertEquals(new ConfigSpace(0, 0, 0, 0), first.getValue().config());

    fake.push(ConfigEvent.Kind.CONFIG_CHANGED, 4096, 0x80000000);
    ArgumentCaptor<ConfigUpdate> u = ArgumentCaptor.forClass(ConfigUpdate.class);
    verify(listener, timeout(2000).times(2)).onUpdate(u.capture());
    ConfigUpdate target = u.getAllValues().get(1);
    assertEquals(4096, target.config().numPages());
    assertEquals(VirtioBalloon.VIRTIO_BALLOON_FREE_PAGE_HINT_CMD_ID_MIN,
        target.config().freePageHintCmdId());
    assertTrue(target.config().hintRound());

    fake.push(ConfigEvent.Kind.PAUSE, 4096, VirtioBalloon.VIRTIO_BALLOON_CMD_ID_DONE);
    verify(listener, timeout(2000).times(3)).onUpdate(u.capture());
    assertEquals(ConfigUpdate.Kind.PAUSE, u.getValue().kind());
    assertFalse(u.getValue().config().hintRound());

    fake.completeStreams();
    verify(listener, timeout(2000)).onCompleted();
    assertFalse(w.open());
    verify(listener, never()).onFailed(any());
  }

  @Test
  void aDroppedStreamShouldTellTheListenerHostGone() throws Exception {
    client.attach(SPEC);
    ConfigListener listener = mock(ConfigListener.class);
    client.watchConfig(listener);
    fake.dropStreams();
    ArgumentCaptor<TransportException> e = ArgumentCaptor.forClass(TransportException.class);
    verify(listener, timeout(2000)).onFailed(e.capture());
    assertEquals(Reason.HOST_GONE, e.getValue().reason());
    assertEquals("WatchConfig", e.getValue().rpc());
  }

  @Test
  void aClosedWatchShouldCancelTheStreamAndSilenceTheListener() throws Exception {
    client.attach(SPEC);
    ConfigListener listener = mock(ConfigListener.class);
    ConfigWatch w = client.watchConfig(listener);
    w.close();
    assertTrue(fake.awaitCancelled(1, Duration.ofSeconds(2)), "the host saw the cancel");
    fake.push(ConfigEvent.Kind.CONFIG_CHANGED, 1, 0);
    verify(listener, after(100).times(1)).onUpdate(any()); // only the first event
    verify(listener, never()).onFailed(any());
    verify(listener, never()).onCompleted();
  }

  @Test
  void aStreamWithoutAFirstEventShouldFailWithinTheDeadline() throws Exception {
    DeviceClient hurried = new DeviceClient(host.channel, CallDeadlines.uniform(SHORT));
    hurried.attach(SPEC);
    fake.script(Rpc.WATCH_CONFIG, Action.hang());
    ConfigListener listener = mock(ConfigListener.class);
    long t0 = System.nanoTime();
    TransportException e = assertThrows(TransportException.class,
        () -> hurried.watchConfig(listener));
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertEquals(Reason.HOST_GONE, e.reason());
    assertTrue(ms < SHORT.toMillis() + 700, ms + " ms");
    assertTrue(fake.awaitCancelled(1, Duration.ofSeconds(2)), "the stream was cancelled");
    verify(listener, never()).onUpdate(any());
    hurried.close();
  }

  @Test
  void aStreamRefusedUpFrontShouldThrowItsReason() throws Exception {
    client.attach(SPEC);
    fake.expireSessions();
    TransportException e = assertThrows(TransportException.class,
        () -> client.watchConfig(mock(ConfigListener.class)));
    assertEquals(Reason.SESSION_LOST, e.reason());
  }

  // ---- detach and close ----

  @Test
  void detachShouldCarryTheTokenEndTheSessionAndStopTheBackground() throws Exception {
    DeviceSession s = client.attach(SPEC);
    Heartbeat h = client.startHeartbeat(Duration.ofSeconds(10), e -> { });
    ConfigWatch w = client.watchConfig(mock(ConfigListener.class));
    client.detach();
    assertEquals(List.of(s.token()), fake.tokens.subList(fake.tokens.size() - 1,
        fake.tokens.size()));
    assertEquals(1, fake.calls(Rpc.DETACH));
    assertTrue(client.session().isEmpty());
    assertFalse(h.running());
    assertFalse(w.open());
    client.detach(); // no session: nothing to do
    assertEquals(1, fake.calls(Rpc.DETACH));
  }

  @Test
  void detachOfASessionTheHostLostShouldSucceed() throws Exception {
    client.attach(SPEC);
    fake.expireSessions();
    client.detach();
    assertTrue(client.session().isEmpty());
  }

  @Test
  void aClosedClientShouldRefuseCallsAsCancelled() throws Exception {
    client.attach(SPEC);
    client.close();
    TransportException e = assertThrows(TransportException.class, () -> client.heartbeat());
    assertEquals(Reason.CANCELLED, e.reason());
  }

  private static PageRange range(long pfn, int order) {
    return PageRange.newBuilder().setPfn(pfn).setOrder(order).build();
  }

  private static boolean heartbeatThreadAlive() {
    return Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.getName().equals(Heartbeat.THREAD_NAME) && t.isAlive());
  }
}
