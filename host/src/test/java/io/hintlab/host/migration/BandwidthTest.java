package io.hintlab.host.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class BandwidthTest {

  @ParameterizedTest
  @CsvSource({
    "10Gbit, 1250000000",
    "1GiB/s, 1073741824",
    "100MiB/s, 104857600",
    "500MB/s, 500000000",
    "8bit, 1",
    "1.5KiB/s, 1536",
    "' 2 GB/s ', 2000000000"
  })
  void parsesUnitsToBytesPerSecond(String text, long expected) {
    assertEquals(expected, Bandwidth.parse(text).bytesPerSecond(), text);
  }

  @Test
  void unlimitedTakesNoTimeAndHasNoBudgetLimit() {
    Bandwidth b = Bandwidth.parse("Unlimited");
    assertTrue(b.unlimited());
    assertEquals(0, b.nanosFor(1L << 40));
    assertEquals(Long.MAX_VALUE, b.bytesIn(300));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "fast", "10", "10Gbyte/s", "10GiBit", "0MiB/s", "1bit", "-5MiB/s"})
  void rejectsBadRatesWithTheTextInTheMessage(String text) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Bandwidth.parse(text));
    assertTrue(e.getMessage().contains("bandwidth"), e.getMessage());
  }

  @Test
  void pacingMathAt100MiBPerSecond() {
    Bandwidth b = Bandwidth.parse("100MiB/s");
    assertEquals(1_000_000_000L, b.nanosFor(100L << 20));
    assertEquals(39_062L, b.nanosFor(4096));
    // 700 MiB take 7 s; no overflow for a 4 GiB transfer either.
    assertEquals(7_000_000_000L, b.nanosFor(700L << 20));
    assertEquals(40_960_000_000L, b.nanosFor(4096L << 20));
    assertEquals(30L << 20, b.bytesIn(300));
  }

  @Test
  void rejectsNegativeArguments() {
    Bandwidth b = Bandwidth.parse("1GiB/s");
    assertThrows(IllegalArgumentException.class, () -> b.nanosFor(-1));
    assertThrows(IllegalArgumentException.class, () -> b.bytesIn(-1));
    assertThrows(IllegalArgumentException.class, () -> new Bandwidth(-1));
  }
}
