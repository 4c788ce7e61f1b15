package io.hintlab.guest.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Exponential backoff with a cap, a bound on attempts, and the exit choice. */
class ReconnectPolicyTest {
  @Test
  void shouldDoubleTheBackoffUpToTheCap() {
    ReconnectPolicy p = ReconnectPolicy.reconnect(10, Duration.ofMillis(100),
        Duration.ofMillis(700));
    long[] expected = {100, 200, 400, 700, 700, 700};
    for (int i = 0; i < expected.length; i++) {
      assertEquals(Duration.ofMillis(expected[i]), p.backoff(i + 1), "attempt " + (i + 1));
    }
    assertEquals(Duration.ofMillis(700), p.backoff(Integer.MAX_VALUE), "no overflow");
  }

  @Test
  void shouldDefaultToTenAttemptsFrom200MsUpTo5s() {
    ReconnectPolicy p = ReconnectPolicy.defaults();
    assertEquals(ReconnectPolicy.Mode.RECONNECT, p.mode());
    assertEquals(10, p.maxAttempts());
    assertEquals(Duration.ofMillis(200), p.backoff(1));
    assertEquals(Duration.ofSeconds(5), p.backoff(10));
  }

  @Test
  void shouldNeverWaitWhenExiting() {
    ReconnectPolicy p = ReconnectPolicy.exit();
    assertEquals(0, p.maxAttempts());
    assertEquals(Duration.ZERO, p.backoff(1));
    assertEquals("exit", p.toString());
  }

  @Test
  void shouldRefuseUnboundedOrBackwardSettings() {
    assertThrows(IllegalArgumentException.class,
        () -> ReconnectPolicy.reconnect(0, Duration.ofMillis(1), Duration.ofMillis(1)));
    assertThrows(IllegalArgumentException.class,
        () -> ReconnectPolicy.reconnect(1, Duration.ZERO, Duration.ofMillis(1)));
    assertThrows(IllegalArgumentException.class,
        () -> ReconnectPolicy.reconnect(1, Duration.ofMillis(2), Duration.ofMillis(1)));
    assertThrows(IllegalArgumentException.class,
        () -> ReconnectPolicy.defaults().backoff(0));
  }
}
