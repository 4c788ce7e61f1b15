package io.hintlab.guest.mm.proc;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Test helper: the real Linux 6.1 captures on the test classpath. */
public final class Captures {
  private static final String DIR = "/testdata/linux-6.1-qemu-1g/";

  private Captures() {}

  /** The verbatim text of a capture ("pagetypeinfo", "zoneinfo", ...). */
  public static String text(String name) {
    try (InputStream in = Captures.class.getResourceAsStream(DIR + name)) {
      if (in == null) {
        throw new IllegalStateException("no test resource " + DIR + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The lines of a capture, trailing spaces kept, as a mutable list. */
  public static List<String> lines(String name) {
    return new ArrayList<>(text(name).lines().toList());
  }
}
