package io.hintlab.host.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.host.device.HostMode;
import io.hintlab.host.rpc.HostAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Starts real {@code host serve} processes the way the pair does. */
class LabHostTest {

  private static LabCommands commands() {
    String java = ProcessHandle.current().info().command().orElseThrow();
    String cp = System.getProperty("java.class.path");
    return new LabCommands(java, cp, cp);
  }

  @Test
  void theTcpPortIsTheOneTheHostAnnounced(@TempDir Path dir) throws Exception {
    Path log = dir.resolve("host.log");
    assertEquals(OptionalInt.empty(), LabHost.announcedPort(log), "no log yet");
    Files.writeString(log, "12:00:00.000 WARN something\n"
        + "hintlab host: listening on 127.0.0.1:40123 (mode discard)\n");
    assertEquals(OptionalInt.of(40123), LabHost.announcedPort(log));
  }

  @Test
  void hostOnLoopbackPortZeroIsReadyOnThePortTheKernelGave() throws Exception {
    LabChildren children = new LabChildren();
    try (LabDir dir = LabDir.create();
        LabHost host = LabHost.start(commands(), dir, Transport.TCP, HostMode.DISCARD,
            children)) {
      assertEquals(HostAddress.Kind.TCP, host.address().kind());
      assertTrue(host.address().port() > 0, host.address().toString());
      assertEquals("127.0.0.1:" + host.address().port(), host.guestAddress());
      assertTrue(ControlProbe.answers(host.channel().channel(), Duration.ofSeconds(5)));
      assertEquals(List.of("host"), children.stopAll(Duration.ofSeconds(10)));
      assertFalse(host.process().isAlive());
    }
  }

  @Test
  void hostOnAUnixSocketLivesInTheLabDirectory() throws Exception {
    try (LabDir dir = LabDir.create();
        LabHost host = LabHost.start(commands(), dir, Transport.UNIX, HostMode.MIGRATE,
            new LabChildren())) {
      assertEquals("unix:" + dir.resolve("host.sock"), host.guestAddress());
      assertTrue(Files.readString(host.process().log()).contains("(mode migrate)"));
    }
  }
}
