package io.hintlab.guest.mm.view;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * The real /proc files of a Linux 6.1 guest (x86-64, 1 GiB, one cpu, CONFIG_CMA off), shipped as
 * test resources under testdata/linux-6.1-qemu-1g/.
 */
final class Captures {
  private static final String DIR = "/testdata/linux-6.1-qemu-1g/";

  private Captures() {}

  /** The whole text of a captured file ("buddyinfo", "pagetypeinfo", "zoneinfo", "vmstat"). */
  static String text(String name) {
    try (InputStream in = Captures.class.getResourceAsStream(DIR + name)) {
      assertNotNull(in, "missing test resource " + DIR + name);
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The lines of a captured file, trailing spaces kept. */
  static List<String> file(String name) {
    return lines(text(name));
  }

  /** The lines of a text that ends with a newline, as the kernel's files all do. */
  static List<String> lines(String text) {
    assertTrue(text.endsWith("\n"), "text must end with a newline");
    String[] parts = text.split("\n", -1);
    return Arrays.asList(parts).subList(0, parts.length - 1);
  }
}
