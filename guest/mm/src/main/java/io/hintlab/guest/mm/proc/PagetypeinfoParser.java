package io.hintlab.guest.mm.proc;

import io.hintlab.guest.mm.MigrateType;
import io.hintlab.guest.mm.ZoneType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the text of /proc/pagetypeinfo as pagetypeinfo_show() (mm/vmstat.c) prints it for one
 * node:
 *
 * <pre>
 * Page block order: 9
 * Pages per block:  512
 *
 * Free pages count per migrate type at order       0      1 ...     10
 * Node    0, zone      DMA, type    Unmovable      0      0 ...      0
 * ...                                                 (pagetypeinfo_showfree_print())
 *
 * Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate
 * Node 0, zone      DMA            1            7            0            0            0
 * ...                                                 (pagetypeinfo_showblockcount_print())
 * </pre>
 *
 * followed, on CONFIG_PAGE_OWNER kernels, by a "Number of mixed blocks" section that is accepted
 * and ignored. The free-count header gives the number of orders; the block-count header gives the
 * migratetypes (kernels without CONFIG_CMA have no CMA column). A count printed as {@code
 * >100000} (the kernel stops walking a list at 100000 entries) is kept as 100000 and marked
 * capped.
 *
 * <p>Every line must have the kernel's exact layout ({@code "Node %4d, zone %8s, type %12s "},
 * {@code "%6lu "} per count, and so on), or the same with trailing spaces stripped. Anything else
 * is an {@link IllegalArgumentException} whose message reads {@code source:line: what was
 * expected}. Only one node is supported: the model has one.
 */
public final class PagetypeinfoParser {
  /** The kernel stops walking a free list at this many entries and prints "&gt;" before it. */
  public static final long FREE_COUNT_CAP = 100000;

  private static final String FREE_HEADER = "Free pages count per migrate type at order";
  private static final String BLOCKS_HEADER = "Number of blocks type ";
  private static final String MIXED_HEADER = "Number of mixed blocks";
  private static final Pattern PB_ORDER = Pattern.compile("Page block order: (\\S*)");
  private static final Pattern PB_PAGES = Pattern.compile("Pages per block:  (\\S*)");
  private static final Pattern FREE_ROW =
      Pattern.compile("Node +(\\S+), zone +(\\S+), type +(\\S+)(.*)");
  private static final Pattern BLOCK_ROW = Pattern.compile("Node +(\\S+), zone +(\\S+)(.*)");
  private static final String ZONE_NAMES = "DMA, DMA32, Normal or Movable";
  private static final String TYPE_NAMES =
      "Unmovable, Movable, Reclaimable, HighAtomic, CMA or Isolate";

  private final Lines in;
  private int pos;
  private int pageblockOrder;
  private int nrOrders;
  private int nodeId = -1;
  private int nodeLine;
  /** Migratetypes in file order, learned from the first zone's rows. */
  private final List<Integer> types = new ArrayList<>();
  private boolean typesFixed;
  private final List<ZoneRows> zones = new ArrayList<>();
  private final Map<ZoneType, ZoneRows> byZone = new EnumMap<>(ZoneType.class);

  /** The rows of one zone while they are read. */
  private final class ZoneRows {
    final ZoneType zone;
    final int line;
    final long[][] free = new long[MigrateType.TYPES][nrOrders];
    final boolean[][] capped = new boolean[MigrateType.TYPES][nrOrders];
    final int[] typeLine = new int[MigrateType.TYPES];
    final long[] blocks = new long[MigrateType.TYPES];
    int nrTypes;
    int blockLine = -1;

    ZoneRows(ZoneType zone, int line) {
      this.zone = zone;
      this.line = line;
      Arrays.fill(typeLine, -1);
    }
  }

  private PagetypeinfoParser(Lines in) {
    this.in = in;
  }

  /**
   * Parses /proc/pagetypeinfo text.
   *
   * @param text the file's content
   * @param source the name to put in error messages (a file name)
   * @return the parsed counts
   * @throws IllegalArgumentException naming source, line and what was expected
   */
  public static PagetypeinfoData parse(String text, String source) {
    if (text == null) {
      throw new IllegalArgumentException("text must not be null");
    }
    return parse(text.lines().toList(), source);
  }

  /**
   * Parses /proc/pagetypeinfo lines (without line terminators).
   *
   * @param lines the file's lines
   * @param source the name to put in error messages (a file name)
   * @return the parsed counts
   * @throws IllegalArgumentException naming source, line and what was expected
   */
  public static PagetypeinfoData parse(List<String> lines, String source) {
    return new PagetypeinfoParser(new Lines(lines, source)).parse();
  }

  private PagetypeinfoData parse() {
    parsePageblockHeader();
    parseFreeHeader();
    parseFreeRows();
    parseBlockHeader();
    parseBlockRows();
    parseTrailer();
    List<String> names = new ArrayList<>();
    for (int mt : types) {
      names.add(MigrateType.name(mt));
    }
    List<PagetypeinfoData.ZoneCounts> counts = new ArrayList<>();
    for (ZoneRows z : zones) {
      counts.add(new PagetypeinfoData.ZoneCounts(z.zone, z.free, z.capped, z.blocks));
    }
    return new PagetypeinfoData(pageblockOrder, nrOrders, nodeId, names, counts);
  }

  // ---------------------------------------------------------------- header (pagetypeinfo_show)

  /** "Page block order: %d", "Pages per block:  %lu", blank line. */
  private void parsePageblockHeader() {
    String l = line(0, "'Page block order: <n>'");
    Matcher m = PB_ORDER.matcher(l);
    if (!m.matches()) {
      throw in.error(0, "expected 'Page block order: <n>', got '" + l + "'");
    }
    long order = in.number(0, m.group(1), "a pageblock order after 'Page block order: '");
    if (order > 30) {
      throw in.error(0, "pageblock order " + order + " is too large (at most 30)");
    }
    pageblockOrder = (int) order;
    l = line(1, "'Pages per block:  <n>'");
    m = PB_PAGES.matcher(l);
    if (!m.matches()) {
      throw in.error(1, "expected 'Pages per block:  <n>' (two spaces), got '" + l + "'");
    }
    long pages = in.number(1, m.group(1), "a page count after 'Pages per block:  '");
    if (pages != 1L << pageblockOrder) {
      throw in.error(1, "pages per block " + pages + " is not 2^" + pageblockOrder + " = "
          + (1L << pageblockOrder));
    }
    if (!line(2, "a blank line").isEmpty()) {
      throw in.error(2, "expected a blank line, got " + in.describe(2));
    }
    pos = 3;
  }

  /** pagetypeinfo_showfree(): {@code "%-43s "} of the title, then {@code "%6d "} per order. */
  private void parseFreeHeader() {
    String l = line(pos, "the free-count header '" + FREE_HEADER + " 0 1 ...'");
    if (!l.startsWith(FREE_HEADER)) {
      throw in.error(pos, "expected the free-count header '" + FREE_HEADER + " 0 1 ...', got '"
          + l + "'");
    }
    String[] tok = Lines.tokens(l.substring(FREE_HEADER.length()));
    for (int i = 0; i < tok.length; i++) {
      if (!tok[i].equals(Integer.toString(i))) {
        throw in.error(pos, "expected order " + i + " in the free-count header, got '" + tok[i]
            + "'");
      }
    }
    if (tok.length == 0) {
      throw in.error(pos, "expected orders 0 1 ... after '" + FREE_HEADER + "'");
    }
    nrOrders = tok.length;
    if (pageblockOrder > nrOrders - 1) {
      throw in.error(pos, "pageblock order " + pageblockOrder + " exceeds MAX_PAGE_ORDER "
          + (nrOrders - 1) + " of the " + nrOrders + " orders in the header");
    }
    StringBuilder sb = Lines.left(new StringBuilder(), FREE_HEADER, 43).append(' ');
    for (int i = 0; i < nrOrders; i++) {
      Lines.right(sb, Integer.toString(i), 6).append(' ');
    }
    checkLayout(pos, l, sb);
    pos++;
  }

  // ---------------------------------------------------------------- pagetypeinfo_showfree_print

  /** One row per populated zone and migratetype, up to the blank line. */
  private void parseFreeRows() {
    ZoneRows current = null;
    while (!in.atEnd(pos) && !in.get(pos).isEmpty()) {
      current = parseFreeRow(current);
      pos++;
    }
    if (current == null) {
      throw in.error(pos, "expected a free-count row 'Node <n>, zone <name>, type <name> ...', got "
          + in.describe(pos));
    }
    finishZoneTypes(current, pos, null);
  }

  private ZoneRows parseFreeRow(ZoneRows current) {
    String l = in.get(pos);
    Matcher m = FREE_ROW.matcher(l);
    if (!m.matches()) {
      throw in.error(pos, "expected a free-count row 'Node <n>, zone <name>, type <name> ...' "
          + "or a blank line, got '" + l + "'");
    }
    int node = node(m.group(1));
    ZoneType zone = zone(m.group(2));
    int mt = type(m.group(3));
    if (current == null || current.zone != zone) {
      current = startZone(current, zone);
    }
    addType(current, mt);
    String after = "'type " + MigrateType.name(mt) + "'";
    String[] tok = Lines.tokens(m.group(4));
    if (tok.length != nrOrders) {
      throw in.error(pos, "expected " + nrOrders + " counts after " + after + ", got "
          + tok.length);
    }
    StringBuilder sb = new StringBuilder("Node ");
    Lines.right(sb, Integer.toString(node), 4).append(", zone ");
    Lines.right(sb, zone.kernelName(), 8).append(", type ");
    Lines.right(sb, MigrateType.name(mt), 12).append(' ');
    for (int o = 0; o < nrOrders; o++) {
      boolean capped = tok[o].startsWith(">");
      String digits = capped ? tok[o].substring(1) : tok[o];
      String what = "a count for order " + o + " after " + after;
      if (!Lines.isDigits(digits)) {
        throw in.error(pos, "expected " + what + ", got '" + tok[o] + "'");
      }
      long v = in.number(pos, digits, what);
      current.free[mt][o] = v;
      current.capped[mt][o] = capped;
      Lines.right(sb.append(capped ? ">" : ""), Long.toString(v), 6).append(' ');
    }
    checkLayout(pos, l, sb);
    return current;
  }

  /** A row of a new zone: the previous zone must be complete, zones in order, no repeats. */
  private ZoneRows startZone(ZoneRows previous, ZoneType zone) {
    if (previous != null) {
      finishZoneTypes(previous, pos, zone);
    }
    ZoneRows seen = byZone.get(zone);
    if (seen != null) {
      throw in.error(pos, "duplicate rows for zone " + zone.kernelName() + " (first at line "
          + (seen.line + 1) + ")");
    }
    if (previous != null && zone.ordinal() < previous.zone.ordinal()) {
      throw in.error(pos, "zone " + zone.kernelName() + " after zone "
          + previous.zone.kernelName() + ": zones must be in the kernel's order");
    }
    ZoneRows z = new ZoneRows(zone, pos);
    zones.add(z);
    byZone.put(zone, z);
    return z;
  }

  /**
   * The first zone's rows fix the migratetypes (in the kernel's order, no repeats); every later
   * zone must list the same ones in the same order.
   */
  private void addType(ZoneRows z, int mt) {
    if (z.typeLine[mt] >= 0) {
      throw in.error(pos, "duplicate row for zone " + z.zone.kernelName() + ", type "
          + MigrateType.name(mt) + " (first at line " + (z.typeLine[mt] + 1) + ")");
    }
    if (!typesFixed) {
      if (!types.isEmpty() && mt < types.get(types.size() - 1)) {
        throw in.error(pos, "type " + MigrateType.name(mt) + " after type "
            + MigrateType.name(types.get(types.size() - 1))
            + ": types must be in the kernel's order (" + TYPE_NAMES.replace(" or", ",") + ")");
      }
      types.add(mt);
    } else if (z.nrTypes >= types.size()) {
      throw in.error(pos, "type " + MigrateType.name(mt) + " for zone " + z.zone.kernelName()
          + " is not listed for zone " + zones.get(0).zone.kernelName() + " (line "
          + (zones.get(0).line + 1) + "); every zone lists the same types");
    } else if (types.get(z.nrTypes) != mt) {
      throw in.error(pos, "expected a row for zone " + z.zone.kernelName() + ", type "
          + MigrateType.name(types.get(z.nrTypes)) + ", got type " + MigrateType.name(mt));
    }
    z.typeLine[mt] = pos;
    z.nrTypes++;
  }

  /** The rows of zone z ended at line idx (where next, if not null, starts). */
  private void finishZoneTypes(ZoneRows z, int idx, ZoneType next) {
    if (!typesFixed) {
      typesFixed = true;
      return;
    }
    if (z.nrTypes < types.size()) {
      String got = next != null ? "zone " + next.kernelName() : in.describe(idx);
      throw in.error(idx, "expected a row for zone " + z.zone.kernelName() + ", type "
          + MigrateType.name(types.get(z.nrTypes)) + ", got " + got);
    }
  }

  // ---------------------------------------------------------------- pagetypeinfo_showblockcount

  /** Blank line, then {@code "%-23s"} of the title and {@code "%12s "} per migratetype. */
  private void parseBlockHeader() {
    if (in.atEnd(pos)) {
      throw in.error(pos, "expected a blank line and the block-count header, got the end of the "
          + "input");
    }
    pos++; // the blank line that ended the free rows
    String l = line(pos, "the block-count header '" + BLOCKS_HEADER + "...'");
    if (!l.startsWith(BLOCKS_HEADER)) {
      throw in.error(pos, "expected the block-count header '" + BLOCKS_HEADER + "...', got '" + l
          + "'");
    }
    String[] tok = Lines.tokens(l.substring(BLOCKS_HEADER.length()));
    List<String> expected = new ArrayList<>();
    for (int mt : types) {
      expected.add(MigrateType.name(mt));
    }
    if (!List.of(tok).equals(expected)) {
      throw in.error(pos, "the block-count header lists types " + List.of(tok)
          + " but the free counts list " + expected);
    }
    StringBuilder sb = Lines.left(new StringBuilder(), BLOCKS_HEADER, 23);
    for (int mt : types) {
      Lines.right(sb, MigrateType.name(mt), 12).append(' ');
    }
    checkLayout(pos, l, sb);
    pos++;
  }

  /** One row per zone of the free counts, in the same order, up to a blank line or the end. */
  private void parseBlockRows() {
    int header = pos - 1;
    int next = 0;
    while (!in.atEnd(pos) && !in.get(pos).isEmpty()) {
      parseBlockRow(next);
      next++;
      pos++;
    }
    if (next < zones.size()) {
      ZoneRows missing = zones.get(next);
      throw in.error(header, "the block counts have no row for zone "
          + missing.zone.kernelName() + " (free counts at line " + (missing.line + 1) + ")");
    }
  }

  private void parseBlockRow(int index) {
    String l = in.get(pos);
    Matcher m = BLOCK_ROW.matcher(l);
    if (!m.matches()) {
      throw in.error(pos, "expected a block-count row 'Node <n>, zone <name> <counts>' or a "
          + "blank line, got '" + l + "'");
    }
    int node = node(m.group(1));
    ZoneType zone = zone(m.group(2));
    ZoneRows z = byZone.get(zone);
    if (z == null) {
      throw in.error(pos, "zone " + zone.kernelName() + " has block counts but no free counts");
    }
    if (z.blockLine >= 0) {
      throw in.error(pos, "duplicate block counts for zone " + zone.kernelName()
          + " (first at line " + (z.blockLine + 1) + ")");
    }
    if (zones.get(index) != z) {
      ZoneRows want = zones.get(index);
      throw in.error(pos, "expected block counts for zone " + want.zone.kernelName()
          + " (free counts at line " + (want.line + 1) + "), got zone " + zone.kernelName());
    }
    z.blockLine = pos;
    String after = "'zone " + zone.kernelName() + "'";
    String[] tok = Lines.tokens(m.group(3));
    if (tok.length != types.size()) {
      throw in.error(pos, "expected " + types.size() + " block counts after " + after + ", got "
          + tok.length);
    }
    StringBuilder sb = new StringBuilder("Node ").append(node).append(", zone ");
    Lines.right(sb, zone.kernelName(), 8).append(' ');
    for (int i = 0; i < tok.length; i++) {
      int mt = types.get(i);
      long v = in.number(pos, tok[i], "a block count for type " + MigrateType.name(mt)
          + " after " + after);
      z.blocks[mt] = v;
      Lines.right(sb, Long.toString(v), 12).append(' ');
    }
    checkLayout(pos, l, sb);
  }

  // ---------------------------------------------------------------- pagetypeinfo_showmixedcount

  /**
   * What may follow the block counts: blank lines, and the CONFIG_PAGE_OWNER "Number of mixed
   * blocks" header with its per-zone rows, which are ignored.
   */
  private void parseTrailer() {
    boolean mixed = false;
    for (; !in.atEnd(pos); pos++) {
      String l = in.get(pos);
      if (l.isEmpty()) {
        continue;
      }
      if (l.startsWith("Page block order:")) {
        throw in.error(pos, "only one NUMA node is supported: a second node's pagetypeinfo "
            + "starts here");
      }
      if (!mixed && l.startsWith(MIXED_HEADER)) {
        mixed = true;
      } else if (!mixed || !l.startsWith("Node ")) {
        throw in.error(pos, "unexpected line after the block counts: '" + l + "'");
      }
    }
  }

  // ---------------------------------------------------------------- fields

  private String line(int idx, String expected) {
    if (in.atEnd(idx)) {
      throw in.error(idx, "expected " + expected + ", got the end of the input");
    }
    return in.get(idx);
  }

  private int node(String token) {
    long n = in.number(pos, token, "a node number after 'Node'");
    if (n > Integer.MAX_VALUE) {
      throw in.error(pos, "node number " + n + " is too large");
    }
    if (nodeId < 0) {
      nodeId = (int) n;
      nodeLine = pos;
    } else if (n != nodeId) {
      throw in.error(pos, "expected node " + nodeId + " (as on line " + (nodeLine + 1)
          + "), got node " + n + ": only one NUMA node is supported");
    }
    return (int) n;
  }

  private ZoneType zone(String name) {
    ZoneType t = ZoneType.byKernelName(name);
    if (t == null || t == ZoneType.DEVICE) {
      throw in.error(pos, "unknown zone '" + name + "' (expected " + ZONE_NAMES + ")");
    }
    return t;
  }

  private int type(String name) {
    for (int mt = 0; mt < MigrateType.TYPES; mt++) {
      if (MigrateType.name(mt).equals(name)) {
        return mt;
      }
    }
    throw in.error(pos, "unknown migratetype '" + name + "' (expected " + TYPE_NAMES + ")");
  }

  /** The line must equal the kernel's rendering, up to trailing spaces. */
  private void checkLayout(int idx, String line, StringBuilder expected) {
    String want = expected.toString().stripTrailing();
    if (!line.equals(want)) {
      throw in.error(idx, "expected the kernel's spacing '" + want + "', got '" + line + "'");
    }
  }
}
