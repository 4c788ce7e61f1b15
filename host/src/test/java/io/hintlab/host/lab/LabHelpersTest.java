package io.hintlab.host.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LabHelpersTest {

  @Test
  void labDirIsPrivateAndKeepsOnlyLogsOnFailure() throws Exception {
    LabDir d = LabDir.create();
    assertEquals("rwx------",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(d.path())));
    Files.writeString(d.resolve("host.log"), "x");
    Files.writeString(d.resolve("host.sock"), "x");
    d.delete(true);
    assertTrue(Files.exists(d.resolve("host.log")));
    assertFalse(Files.exists(d.resolve("host.sock")));
    d.close();
    assertFalse(Files.exists(d.path()));
  }

  @Test
  void awaitReturnsOnceReady() throws Exception {
    AtomicInteger polls = new AtomicInteger();
    Readiness.await("x", () -> polls.incrementAndGet() >= 3, Duration.ofSeconds(10),
        Duration.ofMillis(1));
    assertEquals(3, polls.get());
  }

  @Test
  void awaitTimesOut() {
    IllegalStateException e =
        assertThrows(IllegalStateException.class,
            () -> Readiness.await("the control service", () -> false, Duration.ofMillis(50),
                Duration.ofMillis(5)));
    assertEquals("timed out after 50 ms waiting for the control service", e.getMessage());
  }

  @Test
  void awaitFailsFastWhenAChildDies(@TempDir Path dir) throws Exception {
    try (ChildProcess c = ChildProcess.start("host",
        List.of("/bin/sh", "-c", "echo cannot bind socket >&2; exit 1"), dir.resolve("h.log"))) {
      c.waitFor(Duration.ofSeconds(10));
      IllegalStateException e =
          assertThrows(IllegalStateException.class,
              () -> Readiness.await("the control service", () -> false, Duration.ofSeconds(30),
                  Duration.ofMillis(5), c));
      assertTrue(e.getMessage().startsWith("host process died (exit code 1)"), e.getMessage());
      assertTrue(e.getMessage().contains("cannot bind socket"), e.getMessage());
    }
  }
}
