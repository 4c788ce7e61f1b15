package io.hintlab.guest.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Parsing {@code --host}: unix sockets and loopback TCP only, with messages that say why. */
class GuestAddressTest {
  @Test
  void shouldParseAUnixSocket() {
    GuestAddress a = GuestAddress.parse("unix:/run/user/1000/hintlab/host.sock");
    assertEquals(GuestAddress.Kind.UNIX, a.kind());
    assertEquals("/run/user/1000/hintlab/host.sock", a.path());
    assertEquals("unix:/run/user/1000/hintlab/host.sock", a.toString());
    assertEquals("/tmp/h.sock", GuestAddress.parse("unix:///tmp/h.sock").path());
    assertEquals("rel/h.sock", GuestAddress.parse("unix:rel/h.sock").path());
  }

  @ParameterizedTest
  @CsvSource({
    "127.0.0.1:7070, 127.0.0.1, 7070",
    "127.1.2.3:1, 127.1.2.3, 1",
    "localhost:65535, localhost, 65535",
    "[::1]:7070, [::1], 7070"
  })
  void shouldParseLoopbackTcp(String s, String host, int port) {
    GuestAddress a = GuestAddress.parse(s);
    assertEquals(GuestAddress.Kind.TCP, a.kind());
    assertEquals(host, a.host());
    assertEquals(port, a.port());
    assertEquals(s, a.toString());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "''| got nothing",
    "unix:| unix: needs a socket path",
    "unix://tmp/h.sock| unix:// wants an absolute path",
    "7070| wants unix:PATH or HOST:PORT",
    "127.0.0.1:| wants unix:PATH or HOST:PORT",
    ":7070| wants unix:PATH or HOST:PORT",
    "127.0.0.1:http| port is not a number",
    "127.0.0.1:0| port must be in [1, 65535]",
    "127.0.0.1:70000| port must be in [1, 65535]",
    "::1:7070| an IPv6 host needs brackets",
    "10.0.0.1:7070| TCP must stay on loopback",
    "0.0.0.0:7070| TCP must stay on loopback",
    "[::]:7070| TCP must stay on loopback",
    "127.0.0.256:7070| TCP must stay on loopback",
    "example.com:7070| TCP must stay on loopback",
    "127.0.0.1.nip.io:7070| TCP must stay on loopback"
  })
  void shouldRefuseWithAMessageThatSaysWhy(String s, String message) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> GuestAddress.parse(s));
    assertTrue(e.getMessage().contains(message.strip()), e.getMessage());
  }

  @Test
  void shouldRefuseAUnixPathLongerThanSunPath() {
    String path = "/tmp/" + "x".repeat(GuestAddress.MAX_UNIX_PATH_BYTES - 5);
    assertEquals(path, GuestAddress.parse("unix:" + path).path());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GuestAddress.parse("unix:" + path + "y"));
    assertTrue(e.getMessage().contains("108 bytes, longer than the 107 sun_path allows"),
        e.getMessage());
  }
}
