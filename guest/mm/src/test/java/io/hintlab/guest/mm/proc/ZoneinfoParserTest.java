package io.hintlab.guest.mm.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.ZoneType;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ZoneinfoParserTest {
  private static final String SRC = "zoneinfo";
  /** 1-based line numbers in the 6.1 capture. */
  private static final int BOOST = 47;
  private static final int MIN = 48;
  private static final int LOW = 49;
  private static final int HIGH = 50;
  private static final int PRESENT = 52;
  private static final int MANAGED = 53;
  private static final int PROTECTION = 55;
  private static final int START_PFN = 80;
  private static final int DMA32 = 81;

  @Test
  void parsesTheLinux61Capture() {
    ZoneinfoData d = ZoneinfoParser.parse(Captures.text(SRC), SRC);
    assertEquals(0, d.nodeId());
    assertEquals(List.of(ZoneType.DMA, ZoneType.DMA32, ZoneType.NORMAL, ZoneType.MOVABLE,
        ZoneType.DEVICE), d.zones().stream().map(ZoneinfoData.Zone::zone).toList());
    ZoneinfoData.Zone dma = d.zone(ZoneType.DMA).orElseThrow();
    assertEquals(new ZoneinfoData.Zone(ZoneType.DMA, 3808, 0, 177, 221, 265, OptionalLong.empty(),
        4095, 3998, 3840, 0, List.of(0L, 934L, 934L, 934L, 934L), OptionalLong.of(1)), dma);
    assertEquals(265 + (265 - 221), dma.promoOrDerived());
    ZoneinfoData.Zone dma32 = d.zone(ZoneType.DMA32).orElseThrow();
    assertEquals(11086, dma32.min());
    assertEquals(13857, dma32.low());
    assertEquals(16628, dma32.high());
    assertEquals(241590, dma32.managed());
    assertEquals(OptionalLong.of(4096), dma32.startPfn());
    ZoneinfoData.Zone normal = d.zone(ZoneType.NORMAL).orElseThrow();
    assertFalse(normal.populated());
    assertTrue(normal.startPfn().isEmpty());
  }

  @Test
  void strippedAndNewerLayoutsParse() {
    String text = Captures.text(SRC);
    assertEquals(ZoneinfoParser.parse(text, SRC),
        ZoneinfoParser.parse(PagetypeinfoText.stripped(text), SRC));
    // v6.x: promo after high, pagesets with high_min/high_max, nr_free_pages_blocks
    List<String> l = Captures.lines(SRC);
    l.add(HIGH, "        promo    309");
    l.add(DMA32 + 1, "              high_min: 221");
    l.add(DMA32 + 1, "      nr_free_pages_blocks 3584");
    ZoneinfoData d = ZoneinfoParser.parse(l, SRC);
    assertEquals(OptionalLong.of(309), d.zone(ZoneType.DMA).orElseThrow().promo());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void malformedInputNamesTheLine(String name, UnaryOperator<List<String>> edit, String message) {
    List<String> lines = edit.apply(Captures.lines(SRC));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ZoneinfoParser.parse(lines, SRC));
    assertEquals(message, e.getMessage());
  }

  static Stream<Arguments> malformed() {
    String order = " (the kernel prints pages free, boost, min, low, high, promo, spanned, "
        + "present, managed, cma, protection, start_pfn)";
    return Stream.of(
        bad("empty input", l -> List.of(),
            "zoneinfo:1: expected 'Node <n>, zone <name>', got the end of the input"),
        bad("no zone header first", l -> l.subList(45, l.size()),
            "zoneinfo:1: expected 'Node <n>, zone <name>', got '  pages free     3808'"),
        bad("zone name not padded", l -> set(l, 1, "Node 0, zone DMA"),
            "zoneinfo:1: expected the kernel's spacing 'Node 0, zone      DMA', got "
                + "'Node 0, zone DMA'"),
        bad("unknown zone", l -> set(l, 1, "Node 0, zone  HighMem"),
            "zoneinfo:1: unknown zone 'HighMem' (expected DMA, DMA32, Normal, Movable or Device)"),
        bad("non-numeric min", l -> set(l, MIN, "        min      abc"),
            "zoneinfo:48: expected '        min      <number>', got '        min      abc'"),
        bad("min with other spacing", l -> set(l, MIN, "        min 177"),
            "zoneinfo:48: expected '        min      <number>', got '        min 177'"),
        bad("duplicate low", l -> insert(l, HIGH + 1, l.get(LOW - 1)),
            "zoneinfo:51: duplicate 'low' line in zone DMA (first at line 49)"),
        bad("min after low", l -> swap(l, MIN, LOW),
            "zoneinfo:49: 'min' must come before 'low'" + order),
        bad("managed missing", l -> remove(l, MANAGED),
            "zoneinfo:1: zone DMA has no 'managed' line"),
        bad("boost above min", l -> set(l, BOOST, "        boost    200"),
            "zoneinfo:48: min 177 is below boost 200 (min_wmark_pages() includes the boost)"),
        bad("low below min", l -> set(l, LOW, "        low      100"),
            "zoneinfo:49: low 100 is below min 177 (low = min + a positive step)"),
        bad("present above spanned", l -> set(l, PRESENT, "        present  5000"),
            "zoneinfo:52: present 5000 exceeds spanned 4095"),
        bad("managed above present", l -> set(l, MANAGED, "        managed  5000"),
            "zoneinfo:53: managed 5000 exceeds present 3998"),
        bad("malformed protection", l -> set(l, PROTECTION, "        protection: (0, 934, x)"),
            "zoneinfo:55: expected '        protection: (<n>, <n>, ...)', got "
                + "'        protection: (0, 934, x)'"),
        bad("short protection", l -> set(l, PROTECTION, "        protection: (0, 934, 934, 934)"),
            "zoneinfo:55: protection of zone DMA has 4 entries but the node lists 5 zones"),
        bad("malformed start_pfn", l -> set(l, START_PFN, "  start_pfn: 1"),
            "zoneinfo:80: expected '  start_pfn:           <number>', got '  start_pfn: 1'"),
        bad("unknown indented line", l -> set(l, 56, "  garbage here"),
            "zoneinfo:56: unexpected line in zone DMA: '  garbage here'"),
        bad("unindented garbage", l -> set(l, 56, "garbage"),
            "zoneinfo:56: expected an indented zone line or 'Node <n>, zone <name>', got "
                + "'garbage'"),
        bad("blank line inside", l -> set(l, 56, ""),
            "zoneinfo:56: unexpected blank line"),
        bad("duplicate zone", l -> set(l, DMA32, "Node 0, zone      DMA"),
            "zoneinfo:81: duplicate zone DMA (first at line 1)"),
        bad("zones out of order", l -> set(l, 1, "Node 0, zone   Normal"),
            "zoneinfo:81: zone DMA32 after zone Normal: zones must be in the kernel's order"),
        bad("second node", l -> set(l, DMA32, "Node 1, zone    DMA32"),
            "zoneinfo:81: only one NUMA node is supported: node 1 after node 0 (line 1)"));
  }

  @Test
  void trailingBlankLinesAreFine() {
    assertEquals(ZoneinfoParser.parse(Captures.text(SRC), SRC),
        ZoneinfoParser.parse(Captures.text(SRC) + "\n\n", SRC));
  }

  private static Arguments bad(String name, UnaryOperator<List<String>> edit, String message) {
    return Arguments.of(name, edit, message);
  }

  private static List<String> set(List<String> l, int n, String line) {
    l.set(n - 1, line);
    return l;
  }

  private static List<String> insert(List<String> l, int n, String line) {
    l.add(n - 1, line);
    return l;
  }

  private static List<String> remove(List<String> l, int n) {
    l.remove(n - 1);
    return l;
  }

  private static List<String> swap(List<String> l, int a, int b) {
    List<String> out = new ArrayList<>(l);
    out.set(a - 1, l.get(b - 1));
    out.set(b - 1, l.get(a - 1));
    return out;
  }
}
