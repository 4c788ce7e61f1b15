package io.hintlab.host.lab;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChildProcessTest {

  @Test
  void dyingChildIsReportedWithNameExitCodeAndLogTail(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("guest.log");
    try (ChildProcess c =
        ChildProcess.start(
            "guest", List.of("/bin/sh", "-c", "echo starting >&2; echo boom: no host >&2; exit 3"),
            log)) {
      assertEquals(3, c.waitFor(Duration.ofSeconds(10)));
      IllegalStateException e = assertThrows(IllegalStateException.class, c::checkAlive);
      String m = e.getMessage();
      assertTrue(m.startsWith("guest process died (exit code 3); log " + log), m);
      assertTrue(m.contains("\n  starting\n  boom: no host"), m);
    }
  }

  @Test
  void runningChildPassesCheckAndIsStoppedWithinGrace(@TempDir Path dir) throws Exception {
    ChildProcess c =
        ChildProcess.start("host", List.of("/bin/sh", "-c", "exec sleep 60"), dir.resolve("h.log"));
    assertTrue(c.isAlive());
    assertDoesNotThrow(c::checkAlive);
    c.stop(Duration.ofSeconds(5));
    assertFalse(c.isAlive());
  }

  @Test
  void childIgnoringSigtermIsKilled(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("h.log");
    ChildProcess c =
        ChildProcess.start(
            "host",
            List.of("/bin/sh", "-c", "trap '' TERM; echo ready; while true; do sleep 1; done"),
            log);
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!Files.readString(log).contains("ready") && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    c.stop(Duration.ofMillis(300));
    assertFalse(c.isAlive());
  }

  @Test
  void closingStdinLetsAChildWaitingOnItFinish(@TempDir Path dir) throws Exception {
    ChildProcess c =
        ChildProcess.start("guest", List.of("/bin/sh", "-c", "cat >/dev/null; exit 0"),
            dir.resolve("g.log"));
    c.closeStdin();
    assertEquals(0, c.waitFor(Duration.ofSeconds(10)));
  }

  @Test
  void stdoutToItsOwnFileKeepsTheResultApartFromTheLog(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("guest.log");
    Path out = dir.resolve("guest-stdout.log");
    try (ChildProcess c = ChildProcess.start("guest",
        List.of("/bin/sh", "-c", "echo '{\"ok\": 1}'; echo warming up >&2; exit 4"), log, out)) {
      assertEquals(4, c.waitFor(Duration.ofSeconds(10)));
      assertEquals("{\"ok\": 1}\n", Files.readString(out));
      assertEquals("warming up\n", Files.readString(log));
      assertEquals(4, c.exitCode().orElseThrow());
      assertTrue(c.deathMessage().contains("warming up"), c.deathMessage());
    }
  }

  @Test
  void stdoutFileMustDifferFromTheLog(@TempDir Path dir) {
    Path log = dir.resolve("x.log");
    assertThrows(IllegalArgumentException.class,
        () -> ChildProcess.start("guest", List.of("/bin/true"), log, log));
  }

  @Test
  void runningChildHasNoExitCode(@TempDir Path dir) throws Exception {
    try (ChildProcess c = ChildProcess.start("host", List.of("/bin/sh", "-c", "exec sleep 60"),
        dir.resolve("h.log"))) {
      assertTrue(c.exitCode().isEmpty());
    }
  }

  @Test
  void tailOfMissingLogIsEmpty(@TempDir Path dir) {
    assertEquals(List.of(), ChildProcess.tail(dir.resolve("none.log"), 5));
  }

  @Test
  void emptyCommandIsRejected(@TempDir Path dir) {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ChildProcess.start("host", List.of(), dir.resolve("x.log")));
    assertEquals("empty command for host", e.getMessage());
  }
}
