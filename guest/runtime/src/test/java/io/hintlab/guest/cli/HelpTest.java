package io.hintlab.guest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class HelpTest {
  /** Every command path under the root, e.g. [bench, alloc]. */
  private static void collect(CommandLine cl, List<String> path, List<List<String>> out) {
    out.add(path);
    for (var e : cl.getSubcommands().entrySet()) {
      if (e.getKey().equals("help")) {
        continue;
      }
      List<String> sub = new ArrayList<>(path);
      sub.add(e.getKey());
      collect(e.getValue(), sub, out);
    }
  }

  @Test
  void everyCommandShouldTakeHelp() {
    List<List<String>> paths = new ArrayList<>();
    collect(GuestMain.commandLine(), List.of(), paths);
    assertTrue(paths.size() >= 4, "root, bench, bench alloc, demo... " + paths);
    for (List<String> path : paths) {
      List<String> args = new ArrayList<>(path);
      args.add("--help");
      Cli.Run r = Cli.run(args.toArray(String[]::new));
      assertEquals(0, r.code(), path + ": " + r.err());
      assertTrue(r.out().startsWith("Usage: guest"), path + ": " + r.out());
      assertEquals("", r.err(), path.toString());
    }
  }

  @Test
  void noArgumentsShouldPrintUsage() {
    Cli.Run r = Cli.run();
    assertEquals(0, r.code());
    assertTrue(r.out().contains("bench"), r.out());
    assertTrue(r.out().contains("demo"), r.out());
  }

  @Test
  void unknownCommandsShouldBeOneLineWithExitCode2() {
    Cli.Run r = Cli.run("frobnicate");
    assertEquals(2, r.code());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().contains("'frobnicate'"), r.err());
  }
}
