package io.hintlab.guest.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.hintlab.guest.transport.TransportException.Reason;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The one status mapping, written out again here as the table the Javadoc promises. */
class TransportExceptionTest {
  static final Map<Status.Code, Reason> TABLE = new EnumMap<>(Status.Code.class);

  static {
    TABLE.put(Status.Code.UNAVAILABLE, Reason.HOST_GONE);
    TABLE.put(Status.Code.DEADLINE_EXCEEDED, Reason.HOST_GONE);
    TABLE.put(Status.Code.UNAUTHENTICATED, Reason.SESSION_LOST);
    TABLE.put(Status.Code.INVALID_ARGUMENT, Reason.REJECTED);
    TABLE.put(Status.Code.OUT_OF_RANGE, Reason.REJECTED);
    TABLE.put(Status.Code.FAILED_PRECONDITION, Reason.NOT_NEGOTIATED);
    TABLE.put(Status.Code.RESOURCE_EXHAUSTED, Reason.OVER_CAPACITY);
    TABLE.put(Status.Code.CANCELLED, Reason.CANCELLED);
    for (Status.Code c : new Status.Code[] {Status.Code.OK, Status.Code.UNKNOWN,
        Status.Code.NOT_FOUND, Status.Code.ALREADY_EXISTS, Status.Code.PERMISSION_DENIED,
        Status.Code.ABORTED, Status.Code.UNIMPLEMENTED, Status.Code.INTERNAL,
        Status.Code.DATA_LOSS}) {
      TABLE.put(c, Reason.HOST_FAILED);
    }
  }

  @ParameterizedTest
  @EnumSource(Status.Code.class)
  void shouldMapEveryStatusCodeAsTheTableSays(Status.Code code) {
    assertTrue(TABLE.containsKey(code), "the table misses " + code);
    assertEquals(TABLE.get(code), Reason.of(code));
  }

  @Test
  void shouldReconnectOnlyWhenTheHostIsGoneOrForgotTheSession() {
    for (Reason r : Reason.values()) {
      assertEquals(r == Reason.HOST_GONE || r == Reason.SESSION_LOST, r.reconnects(), r.name());
    }
  }

  @Test
  void shouldNameTheCallTheReasonAndTheStatusInTheMessage() {
    Throwable t = Status.OUT_OF_RANGE.withDescription("pfn 99999 beyond RAM").asRuntimeException();
    TransportException e = TransportException.fromCall("Report", t);
    assertEquals(Reason.REJECTED, e.reason());
    assertEquals("Report", e.rpc());
    assertEquals(Status.Code.OUT_OF_RANGE, e.status().orElseThrow());
    assertEquals("Report: rejected (OUT_OF_RANGE: pfn 99999 beyond RAM)", e.getMessage());
    assertSame(t, e.getCause());
  }

  @Test
  void shouldKeepReasonCallAndStatusWithANewMessage() {
    TransportException e = TransportException.fromCall("Heartbeat",
        Status.UNAVAILABLE.asRuntimeException());
    TransportException w = e.withMessage("gave up");
    assertEquals("gave up", w.getMessage());
    assertEquals(Reason.HOST_GONE, w.reason());
    assertEquals("Heartbeat", w.rpc());
    assertEquals(Status.Code.UNAVAILABLE, w.status().orElseThrow());
    assertSame(e, w.getCause());
  }

  @Test
  void shouldHaveNoStatusWhenDecidedLocally() {
    TransportException e = TransportException.local(Reason.NOT_NEGOTIATED, "Report", "no");
    assertFalse(e.status().isPresent());
    assertEquals("Report: not negotiated: no", e.getMessage());
  }
}
