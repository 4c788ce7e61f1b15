package io.hintlab.host.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.host.rpc.HostAddress;
import io.hintlab.host.rpc.HostChannel;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Starts a real {@code host serve} process the way the lab does. */
class HostProcessTest {

  private static LabCommands commands() {
    String java = ProcessHandle.current().info().command().orElseThrow();
    String cp = System.getProperty("java.class.path");
    return new LabCommands(java, cp, cp);
  }

  @Test
  void hostServeBecomesReadyOnPrivateSocketAndStops() throws Exception {
    try (LabDir dir = LabDir.create()) {
      var sock = dir.resolve("host.sock");
      try (ChildProcess host = ChildProcess.start("host",
              commands().hostServe(List.of("--socket", sock.toString(), "--state-dir",
                  dir.resolve("state").toString())),
              dir.resolve("host.log"));
          HostChannel ch = HostChannel.open(HostAddress.unix(sock))) {
        Readiness.await("the host control service",
            () -> ControlProbe.answers(ch.channel(), Duration.ofSeconds(1)),
            Duration.ofSeconds(60), Duration.ofMillis(100), host);
        host.stop(Duration.ofSeconds(10));
        assertFalse(host.isAlive());
      }
    }
  }

  @Test
  void hostWithBadOptionDiesAndTheErrorNamesIt() throws Exception {
    try (LabDir dir = LabDir.create()) {
      try (ChildProcess host = ChildProcess.start("host",
          commands().hostServe(List.of("--mode", "bogus")), dir.resolve("host.log"))) {
        IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> Readiness.await("the host control service", () -> false,
                Duration.ofSeconds(60), Duration.ofMillis(100), host));
        assertTrue(e.getMessage().startsWith("host process died (exit code 2)"), e.getMessage());
        assertTrue(e.getMessage().contains("bogus"), e.getMessage());
        assertEquals(2, host.waitFor(Duration.ofSeconds(1)));
      }
    }
  }
}
