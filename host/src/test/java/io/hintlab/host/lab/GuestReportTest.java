package io.hintlab.host.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestReportTest {
  private static final String GUEST_JSON = """
      {
        "host": "unix:/tmp/x/host.sock",
        "guest_memory_bytes": 1073741824,
        "seconds": 40.05,
        "reported_bytes": 996147200,
        "lost_writes": 0,
        "detached": true,
        "failure": "",
        "future_field": {"nested": [1, 2.5]}
      }
      """;

  @Test
  void keepsIntegralNumbersExactAndEveryOtherKeyAsItCame() {
    GuestReport r = GuestReport.parse(GUEST_JSON).orElseThrow();
    assertEquals(1073741824L, r.fields().get("guest_memory_bytes"));
    assertEquals(40.05, r.fields().get("seconds"));
    assertEquals(996147200L, r.number("reported_bytes"));
    assertEquals(true, r.fields().get("detached"));
    assertEquals(Map.of("nested", List.of(1L, 2.5)), r.fields().get("future_field"));
    assertEquals("", r.failure());
    assertEquals(List.of("host", "guest_memory_bytes", "seconds", "reported_bytes",
        "lost_writes", "detached", "failure", "future_field"),
        List.copyOf(r.fields().keySet()), "the guest's order");
  }

  @Test
  void aTruncatedOrEmptyOutputIsNoReport() {
    assertEquals(Optional.empty(), GuestReport.parse(GUEST_JSON.substring(0, 60)));
    assertEquals(Optional.empty(), GuestReport.parse(""));
    assertEquals(Optional.empty(), GuestReport.parse("[1, 2]"));
  }

  @Test
  void aMissingNumberIsNamed() {
    GuestReport r = GuestReport.parse("{\"lost_writes\": \"many\"}").orElseThrow();
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> r.number("lost_writes"));
    assertTrue(e.getMessage().startsWith("the guest's JSON has no number 'lost_writes'"),
        e.getMessage());
    assertEquals(7, r.number("corrupt_pages", 7));
  }

  @Test
  void readsTheGuestsStdoutFile(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("guest-stdout.log");
    assertEquals(Optional.empty(), GuestReport.read(out), "no file: the guest never printed");
    Files.writeString(out, GUEST_JSON);
    assertEquals(0, GuestReport.read(out).orElseThrow().number("lost_writes"));
  }
}
