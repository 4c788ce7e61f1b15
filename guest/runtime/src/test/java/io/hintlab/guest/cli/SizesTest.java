package io.hintlab.guest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SizesTest {
  @ParameterizedTest
  @CsvSource({
    "1G, 1073741824", "512M, 536870912", "1GiB, 1073741824", "2048MiB, 2147483648",
    "1073741824, 1073741824", "4096B, 4096", "64k, 65536", "1t, 1099511627776",
    "' 2 GiB ', 2147483648"
  })
  void shouldParseBinaryUnitsAndRawBytes(String text, long bytes) {
    assertEquals(bytes, Sizes.parse(text));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "G", "1.5G", "-1G", "1GB", "1X", "0", "0M", "1 G B",
      "99999999999999999999", "16777216T"})
  void shouldRefuseWhatIsNotAPositiveBinarySize(String text) {
    assertThrows(IllegalArgumentException.class, () -> Sizes.parse(text));
  }

  @ParameterizedTest
  @CsvSource({"1073741824, 1G", "536870912, 512M", "4096, 4K", "1000, 1000", "274877906944, 256G"})
  void shouldFormatInTheLargestExactUnit(long bytes, String text) {
    assertEquals(text, Sizes.format(bytes));
  }
}
