package io.hintlab.guest.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.hintlab.guest.transport.FakeBalloonDevice.Action;
import io.hintlab.guest.transport.FakeBalloonDevice.Rpc;
import io.hintlab.guest.transport.TransportException.Reason;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Reconnect or exit, as the user chose: resume a session whose lease is still running, attach
 * anew when the host lost it, retry a bounded number of times with capped exponential backoff
 * (a recording sleeper stands in for the clock), give up with a message for people.
 */
class ConnectorTest {
  private static final AttachSpec SPEC =
      new AttachSpec("t", 64L << 20, 4096, 10, DriverWishes.linuxDefaults());
  private static final CallDeadlines DEADLINES = CallDeadlines.uniform(Duration.ofSeconds(2));
  private static final ReconnectPolicy FOUR = ReconnectPolicy.reconnect(4,
      Duration.ofMillis(100), Duration.ofMillis(300));
  private static final TransportException GONE = TransportException.fromCall("Report",
      Status.UNAVAILABLE.withDescription("connection reset").asRuntimeException());

  private InProcessHost host;
  private final List<Duration> sleeps = new CopyOnWriteArrayList<>();
  private Connector connector;

  @BeforeEach
  void setUp() throws Exception {
    host = new InProcessHost();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (connector != null) {
      connector.close();
    }
    host.close();
  }

  private Connector connector(ReconnectPolicy policy, Sleeper sleeper) {
    connector = new Connector(host.guestChannel(), SPEC, DEADLINES, policy, sleeper);
    return connector;
  }

  private Connector recording(ReconnectPolicy policy) {
    return connector(policy, sleeps::add);
  }

  @Test
  void connectShouldAttach() throws Exception {
    DeviceClient c = recording(FOUR).connect();
    assertEquals("token-1", c.session().orElseThrow().token());
    assertSame(c, connector.client().orElseThrow());
    assertTrue(sleeps.isEmpty());
    assertThrows(IllegalStateException.class, connector::connect);
  }

  @Test
  void reconnectShouldResumeTheSessionWhenTheHostCameBackWithinTheLease() throws Exception {
    DeviceClient c = recording(FOUR).connect();
    Connector.Connection r = connector.reconnect(GONE);
    assertTrue(r.resumed());
    assertSame(c, r.client());
    assertEquals("token-1", r.client().session().orElseThrow().token());
    assertEquals(1, r.attempts());
    assertEquals(List.of(Duration.ofMillis(100)), sleeps);
    assertEquals(1, host.fake.calls(Rpc.ATTACH), "no new attach: RAM and token stay");
  }

  @Test
  void reconnectShouldAttachAnewAtOnceWhenTheHostLostTheSession() throws Exception {
    DeviceClient old = recording(FOUR).connect();
    host.fake.expireSessions();
    Connector.Connection r = connector.reconnect(GONE);
    assertFalse(r.resumed());
    assertNotEquals(old, r.client());
    assertEquals("token-2", r.client().session().orElseThrow().token());
    assertEquals(1, r.attempts(), "heartbeat said UNAUTHENTICATED, attach in the same attempt");
    assertEquals(List.of(Duration.ofMillis(100)), sleeps);
    assertSame(r.client(), connector.client().orElseThrow());
    TransportException e = assertThrows(TransportException.class, old::heartbeat);
    assertEquals(Reason.CANCELLED, e.reason(), "the old client is closed");
  }

  @Test
  void reconnectAfterSessionLostShouldNotTryTheOldToken() throws Exception {
    recording(FOUR).connect();
    host.fake.expireSessions();
    TransportException lost = TransportException.fromCall("Heartbeat",
        Status.UNAUTHENTICATED.asRuntimeException());
    Connector.Connection r = connector.reconnect(lost);
    assertFalse(r.resumed());
    assertEquals(0, host.fake.calls(Rpc.HEARTBEAT));
    assertEquals(2, host.fake.calls(Rpc.ATTACH));
  }

  @Test
  void reconnectShouldRetryABoundedNumberOfTimesWithCappedBackoffThenGiveUp() throws Exception {
    recording(FOUR).connect();
    host.stop();
    TransportException e = assertThrows(TransportException.class,
        () -> connector.reconnect(GONE));
    assertEquals(List.of(ms(100), ms(200), ms(300), ms(300)), sleeps);
    assertEquals(Reason.HOST_GONE, e.reason());
    assertTrue(e.getMessage().startsWith("host in-process:" + host.name
        + ": gave up after 4 reconnect attempt(s) and 900 ms of backoff"), e.getMessage());
    assertTrue(e.getMessage().contains("last failure: Heartbeat: host gone (UNAVAILABLE"),
        e.getMessage());
  }

  @Test
  void reconnectShouldFindAHostThatRestartedAndAttachAnew() throws Exception {
    Connector c = connector(FOUR, d -> {
      sleeps.add(d);
      if (sleeps.size() == 2) {
        host.fake.expireSessions(); // a restarted host knows no sessions
        restart();
      }
    });
    c.connect();
    host.stop();
    Connector.Connection r = c.reconnect(GONE);
    assertFalse(r.resumed());
    assertEquals(2, r.attempts());
    assertEquals(List.of(ms(100), ms(200)), sleeps);
    assertEquals("token-2", r.client().session().orElseThrow().token());
    r.client().heartbeat();
  }

  @Test
  void connectShouldWaitForAHostThatIsNotUpYet() throws Exception {
    host.stop();
    Connector c = connector(FOUR, d -> {
      sleeps.add(d);
      if (sleeps.size() == 3) {
        restart();
      }
    });
    DeviceClient client = c.connect();
    assertEquals(List.of(ms(100), ms(200), ms(300)), sleeps);
    assertTrue(client.session().isPresent());
  }

  @Test
  void exitPolicyShouldGiveUpAtOnceWithAClearMessage() throws Exception {
    recording(ReconnectPolicy.exit()).connect();
    TransportException e = assertThrows(TransportException.class,
        () -> connector.reconnect(GONE));
    assertTrue(sleeps.isEmpty());
    assertEquals(0, host.fake.calls(Rpc.HEARTBEAT));
    assertEquals(Reason.HOST_GONE, e.reason());
    assertEquals("host in-process:" + host.name + ": Report: host gone (UNAVAILABLE: connection"
        + " reset); exiting, as the reconnect policy is exit", e.getMessage());
  }

  @Test
  void exitPolicyShouldNotWaitForAHostThatIsNotUp() throws Exception {
    host.stop();
    TransportException e = assertThrows(TransportException.class,
        () -> recording(ReconnectPolicy.exit()).connect());
    assertTrue(sleeps.isEmpty());
    assertTrue(e.getMessage().contains("GetDeviceInfo: host gone"), e.getMessage());
    assertTrue(e.getMessage().endsWith("exiting, as the reconnect policy is exit"));
  }

  @Test
  void aFailureReconnectingCannotHelpShouldNotBeRetried() throws Exception {
    recording(FOUR).connect();
    TransportException rejected = TransportException.fromCall("Report",
        Status.INVALID_ARGUMENT.withDescription("misaligned").asRuntimeException());
    TransportException e = assertThrows(TransportException.class,
        () -> connector.reconnect(rejected));
    assertTrue(sleeps.isEmpty());
    assertEquals(Reason.REJECTED, e.reason());
    assertTrue(e.getMessage().endsWith("not retried: reconnecting does not help when the call"
        + " was rejected"), e.getMessage());
  }

  @Test
  void anAttachTheHostRefusesShouldEndTheRetries() throws Exception {
    recording(FOUR).connect();
    host.fake.expireSessions();
    host.fake.script(Rpc.ATTACH,
        Action.fail(Status.Code.RESOURCE_EXHAUSTED, "too many guests"));
    TransportException e = assertThrows(TransportException.class,
        () -> connector.reconnect(GONE));
    assertEquals(Reason.OVER_CAPACITY, e.reason());
    assertEquals(List.of(ms(100)), sleeps, "one attempt, then no more");
  }

  @Test
  void closeDuringABackoffShouldStopTheRetries() throws Exception {
    Connector c = connector(FOUR, d -> {
      sleeps.add(d);
      connector.close();
    });
    c.connect();
    host.stop();
    TransportException e = assertThrows(TransportException.class, () -> c.reconnect(GONE));
    assertEquals(Reason.CANCELLED, e.reason());
    assertTrue(e.getMessage().contains("the connector was closed"), e.getMessage());
    assertEquals(1, sleeps.size());
    assertEquals(0, host.fake.calls(Rpc.HEARTBEAT));
    assertTrue(c.client().isEmpty());
  }

  @Test
  void closeShouldWakeTheRealSleeperAtOnce() throws Exception {
    connector = new Connector(host.guestChannel(), SPEC, DEADLINES,
        ReconnectPolicy.reconnect(3, Duration.ofSeconds(30), Duration.ofSeconds(30)));
    connector.connect();
    host.stop();
    ExecutorService ex = Executors.newSingleThreadExecutor(
        Thread.ofPlatform().name("test-reconnect").daemon().factory());
    try {
      Future<TransportException> f = ex.submit(() -> {
        try {
          connector.reconnect(GONE);
          return null;
        } catch (TransportException e) {
          return e;
        }
      });
      Thread.sleep(100); // let it start waiting its 30 s
      long t0 = System.nanoTime();
      connector.close();
      TransportException e = f.get(5, TimeUnit.SECONDS);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      assertEquals(Reason.CANCELLED, e.reason());
      assertTrue(ms < 3_000, "woke after " + ms + " ms");
    } finally {
      ex.shutdownNow();
      assertTrue(ex.awaitTermination(2, TimeUnit.SECONDS));
    }
  }

  @Test
  void closeShouldDetachTheSession() throws Exception {
    recording(FOUR).connect();
    connector.close();
    assertEquals(1, host.fake.calls(Rpc.DETACH));
    assertTrue(connector.client().isEmpty());
    connector.close(); // idempotent
    assertEquals(1, host.fake.calls(Rpc.DETACH));
  }

  private void restart() {
    try {
      host.start();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Duration ms(long ms) {
    return Duration.ofMillis(ms);
  }
}
