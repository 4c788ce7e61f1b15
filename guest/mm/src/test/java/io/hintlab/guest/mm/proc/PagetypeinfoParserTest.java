package io.hintlab.guest.mm.proc;

import static io.hintlab.guest.mm.MigrateType.CMA;
import static io.hintlab.guest.mm.MigrateType.HIGHATOMIC;
import static io.hintlab.guest.mm.MigrateType.ISOLATE;
import static io.hintlab.guest.mm.MigrateType.MOVABLE;
import static io.hintlab.guest.mm.MigrateType.RECLAIMABLE;
import static io.hintlab.guest.mm.MigrateType.UNMOVABLE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.MigrateType;
import io.hintlab.guest.mm.ZoneType;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PagetypeinfoParserTest {
  private static final String SRC = "pagetypeinfo";
  private static final String BLOCK_HEADER = "Number of blocks type     Unmovable      Movable  "
      + "Reclaimable   HighAtomic      Isolate";

  @Test
  void parsesTheLinux61Capture() {
    PagetypeinfoData d = PagetypeinfoParser.parse(Captures.text(SRC), SRC);
    assertEquals(9, d.pageblockOrder());
    assertEquals(11, d.nrPageOrders());
    assertEquals(0, d.nodeId());
    assertEquals(List.of("Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate"),
        d.typeNames());
    assertFalse(d.hasType(CMA));
    assertEquals(List.of(ZoneType.DMA, ZoneType.DMA32),
        d.zones().stream().map(PagetypeinfoData.ZoneCounts::zone).toList());
    PagetypeinfoData.ZoneCounts dma = d.zone(ZoneType.DMA).orElseThrow();
    assertArrayEquals(new long[] {0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0}, row(dma, UNMOVABLE));
    assertArrayEquals(new long[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3}, row(dma, MOVABLE));
    assertEquals(1, dma.blocks(UNMOVABLE));
    assertEquals(7, dma.blocks(MOVABLE));
    assertEquals(8, dma.totalBlocks());
    assertEquals(3808, dma.freePages());
    PagetypeinfoData.ZoneCounts dma32 = d.zone(ZoneType.DMA32).orElseThrow();
    assertArrayEquals(new long[] {1, 1, 1, 0, 0, 1, 0, 1, 0, 1, 225}, row(dma32, MOVABLE));
    assertArrayEquals(new long[] {1, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0}, row(dma32, RECLAIMABLE));
    assertEquals(45, dma32.blocks(UNMOVABLE));
    assertEquals(454, dma32.blocks(MOVABLE));
    assertEquals(5, dma32.blocks(RECLAIMABLE));
    assertEquals(0, dma32.blocks(HIGHATOMIC) + dma32.blocks(ISOLATE));
    assertEquals(231818, dma32.freePages()); // zoneinfo's "pages free" of the same boot
  }

  @Test
  void strippedTrailingSpacesParseTheSame() {
    String text = Captures.text(SRC);
    assertTrue(text.contains(" \n"), "the capture keeps the kernel's trailing spaces");
    assertEquals(PagetypeinfoParser.parse(text, SRC),
        PagetypeinfoParser.parse(PagetypeinfoText.stripped(text), SRC));
  }

  @Test
  void cappedCountsAreKeptAndMarked() {
    List<String> lines = Captures.lines(SRC);
    lines.set(10, lines.get(10).replace(
        "type      Movable      1 ", "type      Movable >100000 "));
    PagetypeinfoData d = PagetypeinfoParser.parse(lines, SRC);
    PagetypeinfoData.ZoneCounts dma32 = d.zone(ZoneType.DMA32).orElseThrow();
    assertEquals(PagetypeinfoParser.FREE_COUNT_CAP, dma32.free(MOVABLE, 0));
    assertTrue(dma32.capped(MOVABLE, 0));
    assertFalse(dma32.capped(MOVABLE, 1));
  }

  @Test
  void mixedBlocksSectionIsIgnored() {
    String text = Captures.text(SRC)
        + "\nNumber of mixed blocks     Unmovable      Movable  Reclaimable   HighAtomic      "
        + "Isolate \n"
        + "Node 0, zone      DMA            1            0            0            0            "
        + "0 \n"
        + "Node 0, zone    DMA32            3           20            1            0            "
        + "0 \n";
    assertEquals(PagetypeinfoParser.parse(Captures.text(SRC), SRC),
        PagetypeinfoParser.parse(text, SRC));
  }

  @Test
  void kernelsWithCmaHaveACmaColumn() {
    long[][] free = new long[MigrateType.TYPES][11];
    free[CMA][10] = 4;
    free[MOVABLE][3] = 2;
    long[] blocks = new long[MigrateType.TYPES];
    blocks[CMA] = 8;
    blocks[MOVABLE] = 24;
    PagetypeinfoData d = new PagetypeinfoData(9, 11, 0,
        List.of("Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate"),
        List.of(new PagetypeinfoData.ZoneCounts(ZoneType.NORMAL, free, null, blocks)));
    String text = PagetypeinfoText.render(d);
    assertTrue(text.contains("   HighAtomic          CMA      Isolate \n"));
    PagetypeinfoData back = PagetypeinfoParser.parse(text, SRC);
    assertEquals(d, back);
    assertTrue(back.hasType(CMA));
  }

  @Test
  void parsesOtherGeometries() {
    long[][] free = new long[MigrateType.TYPES][14];
    free[MOVABLE][13] = 1;
    long[] blocks = new long[MigrateType.TYPES];
    blocks[MOVABLE] = 3;
    PagetypeinfoData d = new PagetypeinfoData(13, 14, 0, List.of("Unmovable", "Movable"),
        List.of(new PagetypeinfoData.ZoneCounts(ZoneType.NORMAL, free, null, blocks)));
    assertEquals(d, PagetypeinfoParser.parse(PagetypeinfoText.render(d), "arm64"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  void malformedInputNamesTheLine(String name, UnaryOperator<List<String>> edit, String message) {
    List<String> lines = edit.apply(Captures.lines(SRC));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PagetypeinfoParser.parse(lines, SRC));
    assertEquals(message, e.getMessage());
  }

  static Stream<Arguments> malformed() {
    String dmaMovable = "Node    0, zone      DMA, type      Movable      0      0      0      0"
        + "      0      0      0      0      0      1      3";
    return Stream.of(
        bad("empty input", l -> List.of(),
            "pagetypeinfo:1: expected 'Page block order: <n>', got the end of the input"),
        bad("misspelt header", l -> set(l, 1, "Page block orde: 9"),
            "pagetypeinfo:1: expected 'Page block order: <n>', got 'Page block orde: 9'"),
        bad("non-numeric pageblock order", l -> set(l, 1, "Page block order: x"),
            "pagetypeinfo:1: expected a pageblock order after 'Page block order: ', got 'x'"),
        bad("one space in pages per block", l -> set(l, 2, "Pages per block: 512"),
            "pagetypeinfo:2: expected 'Pages per block:  <n>' (two spaces), got "
                + "'Pages per block: 512'"),
        bad("pages per block not 2^order", l -> set(l, 2, "Pages per block:  500"),
            "pagetypeinfo:2: pages per block 500 is not 2^9 = 512"),
        bad("no blank line", l -> set(l, 3, "x"),
            "pagetypeinfo:3: expected a blank line, got 'x'"),
        bad("orders out of sequence", l -> set(l, 4, l.get(3).replace("     9     10", "    10")),
            "pagetypeinfo:4: expected order 9 in the free-count header, got '10'"),
        bad("pageblock order above MAX_PAGE_ORDER",
            l -> set(l, 4, l.get(3).replace("     9     10 ", "")),
            "pagetypeinfo:4: pageblock order 9 exceeds MAX_PAGE_ORDER 8 of the 9 orders in the "
                + "header"),
        bad("a count missing", l -> set(l, 6, l.get(5).replace("      1      3 ", "      3 ")),
            "pagetypeinfo:6: expected 11 counts after 'type Movable', got 10"),
        bad("a count too many", l -> set(l, 6, l.get(5) + "     0 "),
            "pagetypeinfo:6: expected 11 counts after 'type Movable', got 12"),
        bad("non-numeric count", l -> set(l, 6, l.get(5).replace("      3 ", "      x ")),
            "pagetypeinfo:6: expected a count for order 10 after 'type Movable', got 'x'"),
        bad("capped non-number", l -> set(l, 5, l.get(4).replace(
                "type    Unmovable      0", "type    Unmovable     >x")),
            "pagetypeinfo:5: expected a count for order 0 after 'type Unmovable', got '>x'"),
        bad("count beyond a long", l -> set(l, 5, l.get(4).replace(
                "type    Unmovable      0", "type    Unmovable 99999999999999999999")),
            "pagetypeinfo:5: expected a count for order 0 after 'type Unmovable', got "
                + "'99999999999999999999' (too large)"),
        bad("unknown zone", l -> set(l, 5, l.get(4).replace("zone      DMA", "zone  HighMem")),
            "pagetypeinfo:5: unknown zone 'HighMem' (expected DMA, DMA32, Normal or Movable)"),
        bad("unknown migratetype", l -> set(l, 7, l.get(6).replace("Reclaimable", "    Reserve")),
            "pagetypeinfo:7: unknown migratetype 'Reserve' (expected Unmovable, Movable, "
                + "Reclaimable, HighAtomic, CMA or Isolate)"),
        bad("duplicate row", l -> set(l, 6, l.get(4)),
            "pagetypeinfo:6: duplicate row for zone DMA, type Unmovable (first at line 5)"),
        bad("types out of order", l -> swap(l, 5, 6),
            "pagetypeinfo:6: type Unmovable after type Movable: types must be in the kernel's "
                + "order (Unmovable, Movable, Reclaimable, HighAtomic, CMA, Isolate)"),
        bad("another zone lists other types", l -> set(l, 12, l.get(11).replace(
                "  Reclaimable", "   HighAtomic")),
            "pagetypeinfo:12: expected a row for zone DMA32, type Reclaimable, got type "
                + "HighAtomic"),
        bad("a zone's rows end early", l -> remove(l, 14),
            "pagetypeinfo:14: expected a row for zone DMA32, type Isolate, got a blank line"),
        bad("zone change inside a zone's rows", l -> set(l, 12, l.get(11).replace(
                "zone    DMA32", "zone      DMA")),
            "pagetypeinfo:12: expected a row for zone DMA32, type Reclaimable, got zone DMA"),
        bad("zone repeated", l -> insertAll(l, 15, l.subList(4, 9)),
            "pagetypeinfo:15: duplicate rows for zone DMA (first at line 5)"),
        bad("zones out of order", l -> moveBlock(l),
            "pagetypeinfo:10: zone DMA after zone DMA32: zones must be in the kernel's order"),
        bad("second node", l -> set(l, 10, l.get(9).replace("Node    0", "Node    1")),
            "pagetypeinfo:10: expected node 0 (as on line 5), got node 1: only one NUMA node is "
                + "supported"),
        bad("single spaces", l -> set(l, 6, "Node 0, zone DMA, type Movable 0 0 0 0 0 0 0 0 0 1 3"),
            "pagetypeinfo:6: expected the kernel's spacing '" + dmaMovable + "', got "
                + "'Node 0, zone DMA, type Movable 0 0 0 0 0 0 0 0 0 1 3'"),
        bad("no free rows", l -> set(l, 5, ""),
            "pagetypeinfo:5: expected a free-count row 'Node <n>, zone <name>, type <name> ...', "
                + "got a blank line"),
        bad("no blank line before the block counts", l -> remove(l, 15),
            "pagetypeinfo:15: expected a free-count row 'Node <n>, zone <name>, type <name> ...' "
                + "or a blank line, got '" + BLOCK_HEADER + "'"),
        bad("input ends after the free counts", l -> l.subList(0, 14),
            "pagetypeinfo:15: expected a blank line and the block-count header, got the end of "
                + "the input"),
        bad("block header without Isolate", l -> set(l, 16, l.get(15).replace("      Isolate", "")),
            "pagetypeinfo:16: the block-count header lists types [Unmovable, Movable, Reclaimable, "
                + "HighAtomic] but the free counts list [Unmovable, Movable, Reclaimable, "
                + "HighAtomic, Isolate]"),
        bad("block counts missing a zone", l -> remove(l, 18),
            "pagetypeinfo:16: the block counts have no row for zone DMA32 (free counts at line "
                + "10)"),
        bad("block counts for an unlisted zone", l -> set(l, 17, l.get(16).replace(
                "zone      DMA", "zone   Normal")),
            "pagetypeinfo:17: zone Normal has block counts but no free counts"),
        bad("block rows out of order", l -> swap(l, 17, 18),
            "pagetypeinfo:17: expected block counts for zone DMA (free counts at line 5), got "
                + "zone DMA32"),
        bad("duplicate block row", l -> set(l, 18, l.get(16)),
            "pagetypeinfo:18: duplicate block counts for zone DMA (first at line 17)"),
        bad("block count missing", l -> set(l, 18, l.get(17).replace("            0 ", "")),
            "pagetypeinfo:18: expected 5 block counts after 'zone DMA32', got 4"),
        bad("non-numeric block count", l -> set(l, 18, l.get(17).replace("  45 ", " 4x5 ")),
            "pagetypeinfo:18: expected a block count for type Unmovable after 'zone DMA32', got "
                + "'4x5'"),
        bad("garbage after the block rows", l -> append(l, "hello"),
            "pagetypeinfo:19: expected a block-count row 'Node <n>, zone <name> <counts>' or a "
                + "blank line, got 'hello'"),
        bad("trailing garbage", l -> append(append(l, ""), "hello"),
            "pagetypeinfo:20: unexpected line after the block counts: 'hello'"),
        bad("a second node's file", l -> append(append(l, ""), "Page block order: 9"),
            "pagetypeinfo:20: only one NUMA node is supported: a second node's pagetypeinfo "
                + "starts here"));
  }

  @Test
  void trailingBlankLinesAreFine() {
    assertEquals(PagetypeinfoParser.parse(Captures.text(SRC), SRC),
        PagetypeinfoParser.parse(Captures.text(SRC) + "\n\n", SRC));
  }

  // ---------------------------------------------------------------- helpers

  private static long[] row(PagetypeinfoData.ZoneCounts z, int mt) {
    long[] r = new long[z.nrPageOrders()];
    for (int o = 0; o < r.length; o++) {
      r[o] = z.free(mt, o);
    }
    return r;
  }

  private static Arguments bad(String name, UnaryOperator<List<String>> edit, String message) {
    return Arguments.of(name, edit, message);
  }

  /** Replaces line n (1-based). */
  private static List<String> set(List<String> l, int n, String line) {
    l.set(n - 1, line);
    return l;
  }

  /** Swaps lines a and b (1-based). */
  private static List<String> swap(List<String> l, int a, int b) {
    String t = l.get(a - 1);
    l.set(a - 1, l.get(b - 1));
    l.set(b - 1, t);
    return l;
  }

  /** Removes line n (1-based). */
  private static List<String> remove(List<String> l, int n) {
    l.remove(n - 1);
    return l;
  }

  /** Inserts lines before line n (1-based). */
  private static List<String> insertAll(List<String> l, int n, List<String> lines) {
    l.addAll(n - 1, new ArrayList<>(lines));
    return l;
  }

  private static List<String> append(List<String> l, String line) {
    l.add(line);
    return l;
  }

  /** Puts the DMA32 rows (lines 10-14) before the DMA rows (lines 5-9). */
  private static List<String> moveBlock(List<String> l) {
    List<String> out = new ArrayList<>(l.subList(0, 4));
    out.addAll(l.subList(9, 14));
    out.addAll(l.subList(4, 9));
    out.addAll(l.subList(14, l.size()));
    return out;
  }
}
