package io.hintlab.guest.reporting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Options: the kernel's defaults and exact messages for every bad value. */
class ReportingOptionsTest {
  @Test
  void shouldDefaultToLinuxFreePageReporting() {
    // PAGE_REPORTING_CAPACITY 32, PAGE_REPORTING_DELAY 2 s, budget 1/16, pageblock order
    ReportingOptions o = ReportingOptions.defaults();
    assertEquals(ReportingOptions.ORDER_UNSPECIFIED, o.order());
    assertEquals(32, o.capacity());
    assertEquals(Duration.ofSeconds(2), o.delay());
    assertEquals(16, o.budgetDivisor());
    assertEquals(16, o.batchSize());
    assertEquals(ReportingOptions.Cursor.PROGRESS, o.cursor());
    assertEquals(ReportingOptions.CPU_UNSPECIFIED, o.isolationCpu());
  }

  @Test
  void shouldReplaceOneFieldAtATime() {
    ReportingOptions o =
        ReportingOptions.defaults()
            .withOrder(5)
            .withCapacity(64)
            .withDelay(Duration.ofMillis(100))
            .withBudgetDivisor(0)
            .withBatchSize(8);
    assertEquals(new ReportingOptions(5, 64, Duration.ofMillis(100), 0, 8), o);
    assertEquals(
        new ReportingOptions(
            5, 64, Duration.ofMillis(100), 0, 8, ReportingOptions.Cursor.ORIGINAL, 3),
        o.withCursor(ReportingOptions.Cursor.ORIGINAL).withIsolationCpu(3));
  }

  static Stream<Arguments> badOptions() {
    return Stream.of(
        bad(o -> o.withOrder(-2), "order must be -1 (the pageblock order) or >= 0, got -2"),
        bad(o -> o.withCapacity(0), "capacity must be a power of two in [1, 1024], got 0"),
        bad(o -> o.withCapacity(33), "capacity must be a power of two in [1, 1024], got 33"),
        bad(o -> o.withCapacity(2048), "capacity must be a power of two in [1, 1024], got 2048"),
        bad(o -> o.withDelay(null), "delay must not be null"),
        bad(o -> o.withDelay(Duration.ofMillis(-1)), "delay must be >= 0, got PT-0.001S"),
        bad(o -> o.withBudgetDivisor(-1), "budgetDivisor must be >= 0 (0 = no budget), got -1"),
        bad(o -> o.withBatchSize(0), "batchSize must be >= 1, got 0"),
        bad(o -> o.withCursor(null), "cursor must not be null"),
        bad(
            o -> o.withIsolationCpu(-2),
            "isolationCpu must be -1 (the last cpu) or >= 0, got -2"));
  }

  private static Arguments bad(UnaryOperator<ReportingOptions> change, String message) {
    return Arguments.of(change, message);
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("badOptions")
  void shouldRejectABadValueWithAnExactMessage(
      UnaryOperator<ReportingOptions> change, String message) {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> change.apply(ReportingOptions.defaults()));
    assertEquals(message, e.getMessage());
  }

  @Test
  void shouldAcceptTheEdges() {
    ReportingOptions o = new ReportingOptions(0, 1, Duration.ZERO, 0, 1);
    assertEquals(1, o.capacity());
    assertEquals(1024, o.withCapacity(1024).capacity());
  }
}
