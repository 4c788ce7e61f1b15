package io.hintlab.host.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ByteSizesTest {

  @Test
  void parsesBytesAndBinaryUnitsInAnyCase() {
    assertEquals(1L << 30, ByteSizes.parse("1G"));
    assertEquals(512L << 20, ByteSizes.parse("512m"));
    assertEquals(2048L << 20, ByteSizes.parse("2048MiB"));
    assertEquals(4096, ByteSizes.parse("4096"));
    assertEquals(0, ByteSizes.parse("0"));
    assertEquals(3L << 40, ByteSizes.parse(" 3TiB "));
  }

  @Test
  void refusesDecimalUnitsAndGarbageNamingTheText() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ByteSizes.parse("1GB"));
    assertTrue(e.getMessage().startsWith("'1GB' is not a size"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ByteSizes.parse("-1G"));
    assertThrows(IllegalArgumentException.class, () -> ByteSizes.parse(""));
    assertThrows(IllegalArgumentException.class, () -> ByteSizes.parse(null));
  }

  @Test
  void refusesSizesThatOverflowALong() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ByteSizes.parse("9000000T"));
    assertEquals("'9000000T' is too large", e.getMessage());
  }

  @Test
  void printsMibWithOneDecimalAndExactFormsThatParseBack() {
    assertEquals("315.4 MiB", ByteSizes.human(330_711_040L));
    assertEquals("0.0 MiB", ByteSizes.human(0));
    assertEquals("12.0 GiB", ByteSizes.human(12L << 30));
    assertEquals("1G", ByteSizes.exact(1L << 30));
    assertEquals("1536M", ByteSizes.exact(1536L << 20));
    assertEquals("4097", ByteSizes.exact(4097));
    assertEquals(1536L << 20, ByteSizes.parse(ByteSizes.exact(1536L << 20)));
  }
}
