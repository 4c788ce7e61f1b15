package io.hintlab.host.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LabCommandsTest {

  private final LabCommands cmds = new LabCommands("/j/bin/java", "H.jar", "G.jar");

  @Test
  void hostServeUsesHostClasspathAndCommandWords() {
    assertEquals(
        List.of("/j/bin/java", "--enable-native-access=ALL-UNNAMED", "-cp", "H.jar",
            LabCommands.HOST_MAIN, "host", "serve", "--socket", "/d/host.sock"),
        cmds.hostServe(List.of("--socket", "/d/host.sock")));
  }

  @Test
  void guestRunUsesGuestClasspath() {
    assertEquals(
        List.of("/j/bin/java", "--enable-native-access=ALL-UNNAMED", "-cp", "G.jar",
            LabCommands.GUEST_MAIN, "run", "--stop-on-stdin-eof", "--json"),
        cmds.guestRun(List.of("--json")));
  }

  @Test
  void missingEnvironmentVariableIsNamed() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class,
            () -> LabCommands.fromEnvironment(
                Map.of("HINTLAB_JAVA", "java", "HINTLAB_HOST_CLASSPATH", "H")));
    assertEquals("HINTLAB_GUEST_CLASSPATH is not set (run through ./hintlab, which exports it)",
        e.getMessage());
  }

  @Test
  void environmentIsRead() {
    LabCommands c = LabCommands.fromEnvironment(Map.of("HINTLAB_JAVA", "j",
        "HINTLAB_HOST_CLASSPATH", "H", "HINTLAB_GUEST_CLASSPATH", "G"));
    assertEquals(new LabCommands("j", "H", "G"), c);
  }

  @Test
  void blankPartIsRejected() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new LabCommands("j", " ", "G"));
    assertEquals("host class path must not be blank", e.getMessage());
  }
}
