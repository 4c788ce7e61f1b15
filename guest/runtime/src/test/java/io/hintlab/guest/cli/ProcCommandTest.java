package io.hintlab.guest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProcCommandTest {
  private static Path capture(String name) throws URISyntaxException {
    return Path.of(ProcCommandTest.class.getResource("/testdata/linux-6.1-qemu-1g/" + name)
        .toURI());
  }

  @ParameterizedTest
  @CsvSource({
    "buddyinfo, 'Node 0, zone      DMA '",
    "pagetypeinfo, 'Page block order: 9'",
    "zoneinfo, 'Node 0, zone      DMA'",
    "vmstat, 'nr_free_pages '",
    "extfrag, 'Node 0, zone      DMA '",
    "unusable, 'Node 0, zone      DMA '"
  })
  void eachViewShouldPrintTheKernelText(String view, String start) {
    Cli.Run r = Cli.run("proc", "--memory", "64M", "--show", view);
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith(start), r.out());
    assertFalse(r.out().contains("==>"), "one view is printed bare");
    assertEquals("", r.err());
  }

  @Test
  void severalViewsShouldEachHaveAHeader() {
    Cli.Run r = Cli.run("proc", "--memory", "64M", "--show", "buddyinfo, vmstat");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith("==> /proc/buddyinfo <==\nNode 0, zone "), r.out());
    assertTrue(r.out().contains("\n\n==> /proc/vmstat <==\nnr_free_pages "), r.out());
  }

  @Test
  void aWorkloadShouldChangeTheViewsAndBeSummedUpOnStderr() {
    String boot = Cli.run("proc", "--memory", "64M", "--show", "buddyinfo").out();
    Cli.Run r = Cli.run("proc", "--memory", "64M", "--cpus", "1", "--workload", "fragment",
        "--seed", "3", "--show", "buddyinfo");
    assertEquals(0, r.code(), r.err());
    assertNotEquals(boot, r.out());
    assertTrue(r.err().startsWith("workload fragment (seed 3): "), r.err());
    Cli.Run again = Cli.run("proc", "--memory", "64M", "--cpus", "1", "--workload", "fragment",
        "--seed", "3", "--show", "buddyinfo");
    assertEquals(r.out(), again.out(), "deterministic per seed");
    Cli.Run mixed = Cli.run("proc", "--memory", "64M", "--workload", "mixed", "--ops", "5000",
        "--show", "vmstat");
    assertEquals(0, mixed.code(), mixed.err());
    assertTrue(mixed.err().contains("workload mixed (seed 1): "), mixed.err());
  }

  @Test
  void shouldImportPagetypeinfoWithAndWithoutZoneinfo() throws Exception {
    Path pti = capture("pagetypeinfo");
    Cli.Run r = Cli.run("proc", "--from-pagetypeinfo", pti.toString(), "--show", "pagetypeinfo");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("Node    0, zone    DMA32, type      Movable      1      1      1"
        + "      0      0      1      0      1      0      1    225 "), r.out());
    Cli.Run z = Cli.run("proc", "--from-pagetypeinfo", pti.toString(), "--zoneinfo",
        capture("zoneinfo").toString(), "--workload", "idle", "--show", "buddyinfo,zoneinfo");
    assertEquals(0, z.code(), z.err());
    assertTrue(z.out().contains("==> /proc/zoneinfo <=="), z.out());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
    "--memory 1X --show buddyinfo | --memory",
    "--memory 4M --show buddyinfo | --memory",
    "--show bogus | --show",
    "--show buddyinfo,,vmstat | --show",
    "--show buddyinfo --bogus | --bogus",
    "--memory 1G --from-pagetypeinfo PTI --show buddyinfo | --memory and --from-pagetypeinfo",
    "--zoneinfo ZI --show buddyinfo | --zoneinfo needs --from-pagetypeinfo",
    "--from-pagetypeinfo /no/such/file --show buddyinfo | --from-pagetypeinfo: no such file",
    "--from-pagetypeinfo PTI --zoneinfo /no/such --show buddyinfo | --zoneinfo: no such file",
    "--from-pagetypeinfo ZI --show buddyinfo | --from-pagetypeinfo: ",
    "--from-pagetypeinfo PTI --zoneinfo PTI --show buddyinfo | --zoneinfo: ",
    "--cpus 0 --show buddyinfo | --cpus",
    "--cpus x --show buddyinfo | --cpus",
    "--workload bogus --show buddyinfo | --workload: unknown workload 'bogus': expected one of "
        + "balloon, churn, contig, fragment, idle, memhog, mixed, replay, thp",
    "--ops 5 --show buddyinfo | --ops needs --workload",
    "--workload mixed --ops -1 --show buddyinfo | --ops must be >= 0",
    "--memory 64M | --show",
    "--show | --show"
  })
  void badOptionsShouldGiveOneLineNamingTheOptionAndExitCode2(String args, String expected)
      throws Exception {
    String[] argv = ("proc " + args.replace("PTI", capture("pagetypeinfo").toString())
        .replace("ZI", capture("zoneinfo").toString())).split(" ");
    Cli.Run r = Cli.run(argv);
    assertEquals(2, r.code(), r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().startsWith("hintlab guest proc: "), r.err());
    assertTrue(r.err().contains(expected), r.err());
    assertEquals("", r.out());
  }

  @Test
  void aDirectoryIsNotAFile(@TempDir Path dir) throws Exception {
    Files.createDirectories(dir.resolve("d"));
    Cli.Run r = Cli.run("proc", "--from-pagetypeinfo", dir.resolve("d").toString(), "--show",
        "buddyinfo");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("--from-pagetypeinfo: not a readable file"), r.err());
  }
}
