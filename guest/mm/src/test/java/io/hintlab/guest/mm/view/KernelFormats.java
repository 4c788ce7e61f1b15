package io.hintlab.guest.mm.view;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Line shapes of mm/vmstat.c, for layout tests: each method parses the fields out of a line
 * loosely and prints them again with the kernel's own printf formats (through java.util.Formatter,
 * which pads %Nd, %Ns and %-Ns as C does). A line has the kernel's layout exactly when the
 * reprint equals it: same field widths, alignment, separators and trailing spaces. Both the real
 * 6.1 capture and the model's views are held to this.
 */
final class KernelFormats {
  private static final Pattern NODE_ZONE_COUNTS =
      Pattern.compile("Node (\\d+), zone +(\\S+) ((?: *>?\\d+ )+)");
  private static final Pattern FREE_LINE =
      Pattern.compile("Node +(\\d+), zone +(\\S+), type +(\\S+) ((?: *>?\\d+ )+)");
  private static final Pattern INDEX_LINE =
      Pattern.compile("Node (\\d+), zone +(\\S+) ((?: *-?\\d+\\.-?\\d+ )+)");
  private static final Pattern STAT_LINE = Pattern.compile("      ([a-z0-9_]+) +(\\d+)");

  private KernelFormats() {}

  static String fmt(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  static Matcher match(Pattern p, String line) {
    Matcher m = p.matcher(line);
    if (!m.matches()) {
      fail("line does not have the shape " + p + ": '" + line + "'");
    }
    return m;
  }

  static List<String> fields(String group) {
    return List.of(group.strip().split(" +"));
  }

  // ---------------------------------------------------------------- buddyinfo

  /** frag_show_print(): "Node %d, zone %8s " then "%6lu " per order. */
  static String reprintBuddyinfo(String line) {
    Matcher m = match(NODE_ZONE_COUNTS, line);
    StringBuilder sb = new StringBuilder(
        fmt("Node %d, zone %8s ", Integer.parseInt(m.group(1)), m.group(2)));
    for (String n : fields(m.group(3))) {
      sb.append(fmt("%6d ", Long.parseLong(n)));
    }
    return sb.toString();
  }

  /** The number of per-order fields of a buddyinfo or block-count line. */
  static int countFields(String line) {
    return fields(match(NODE_ZONE_COUNTS, line).group(3)).size();
  }

  // ---------------------------------------------------------------- pagetypeinfo

  /** Kinds of pagetypeinfo lines, in the order pagetypeinfo_show() prints them. */
  enum PtiKind { BLOCK_ORDER, PER_BLOCK, BLANK, FREE_HEADER, FREE, BLOCKS_HEADER, BLOCKS }

  static PtiKind pagetypeinfoKind(String line) {
    if (line.startsWith("Page block order: ")) {
      return PtiKind.BLOCK_ORDER;
    } else if (line.startsWith("Pages per block:")) {
      return PtiKind.PER_BLOCK;
    } else if (line.isEmpty()) {
      return PtiKind.BLANK;
    } else if (line.startsWith("Free pages count")) {
      return PtiKind.FREE_HEADER;
    } else if (line.startsWith("Number of blocks type")) {
      return PtiKind.BLOCKS_HEADER;
    } else if (FREE_LINE.matcher(line).matches()) {
      return PtiKind.FREE;
    } else if (NODE_ZONE_COUNTS.matcher(line).matches()) {
      return PtiKind.BLOCKS;
    }
    return fail("not a pagetypeinfo line: '" + line + "'");
  }

  /** Reprints a pagetypeinfo line with pagetypeinfo_show()'s formats. */
  static String reprintPagetypeinfo(String line) {
    switch (pagetypeinfoKind(line)) {
      case BLOCK_ORDER:
        return fmt("Page block order: %d", Integer.parseInt(line.substring(18)));
      case PER_BLOCK:
        return fmt("Pages per block:  %d", Long.parseLong(line.substring(18)));
      case BLANK:
        return "";
      case FREE_HEADER: {
        StringBuilder sb =
            new StringBuilder(fmt("%-43s ", "Free pages count per migrate type at order"));
        for (String o : fields(line.substring(44))) {
          sb.append(fmt("%6d ", Integer.parseInt(o)));
        }
        return sb.toString();
      }
      case BLOCKS_HEADER: {
        StringBuilder sb = new StringBuilder(fmt("%-23s", "Number of blocks type "));
        for (String name : fields(line.substring(23))) {
          sb.append(fmt("%12s ", name));
        }
        return sb.toString();
      }
      case FREE: {
        Matcher m = match(FREE_LINE, line);
        StringBuilder sb = new StringBuilder(fmt("Node %4d, zone %8s, type %12s ",
            Integer.parseInt(m.group(1)), m.group(2).replace(",", ""), m.group(3)));
        for (String n : fields(m.group(4))) {
          boolean overflow = n.startsWith(">");
          sb.append(fmt("%s%6d ", overflow ? ">" : "", Long.parseLong(n.replace(">", ""))));
        }
        return sb.toString();
      }
      case BLOCKS: {
        Matcher m = match(NODE_ZONE_COUNTS, line);
        StringBuilder sb = new StringBuilder(
            fmt("Node %d, zone %8s ", Integer.parseInt(m.group(1)), m.group(2)));
        for (String n : fields(m.group(3))) {
          sb.append(fmt("%12d ", Long.parseLong(n)));
        }
        return sb.toString();
      }
      default:
        throw new AssertionError();
    }
  }

  /** A pagetypeinfo line without its counts: the prefix up to the first count field. */
  static String pagetypeinfoLabel(String line) {
    switch (pagetypeinfoKind(line)) {
      case FREE:
        return line.substring(0, "Node    0, zone      DMA, type    Unmovable ".length());
      case BLOCKS:
        return line.substring(0, "Node 0, zone      DMA ".length());
      default:
        return line;
    }
  }

  // ---------------------------------------------------------------- zoneinfo

  /** The kernel versions whose zoneinfo layouts the tests know. */
  enum ZoneinfoVersion { V6_1, V6_17 }

  /** Kinds of zoneinfo lines. */
  enum ZiKind {
    NODE_ZONE, PER_NODE_STATS, STAT, PAGES_FREE, BOOST, MIN, LOW, HIGH, PROMO, SPANNED, PRESENT,
    MANAGED, CMA, PROTECTION, PAGESETS, CPU, PCP_COUNT, PCP_HIGH, PCP_BATCH, PCP_HIGH_MIN,
    PCP_HIGH_MAX, THRESHOLD, NODE_UNRECLAIMABLE, START_PFN
  }

  /** A line kind with the literal that zoneinfo_show_print() prints before the number. */
  private record Literal(ZiKind kind, String prefix) {}

  /** The literals of v6.17 mm/vmstat.c zoneinfo_show_print(), as written there. */
  private static final List<Literal> LITERALS_6_17 = List.of(
      new Literal(ZiKind.PAGES_FREE, "  pages free     "),
      new Literal(ZiKind.BOOST, "        boost    "),
      new Literal(ZiKind.MIN, "        min      "),
      new Literal(ZiKind.LOW, "        low      "),
      new Literal(ZiKind.HIGH, "        high     "),
      new Literal(ZiKind.PROMO, "        promo    "),
      new Literal(ZiKind.SPANNED, "        spanned  "),
      new Literal(ZiKind.PRESENT, "        present  "),
      new Literal(ZiKind.MANAGED, "        managed  "),
      new Literal(ZiKind.CMA, "        cma      "),
      new Literal(ZiKind.CPU, "    cpu: "),
      new Literal(ZiKind.PCP_COUNT, "              count:    "),
      new Literal(ZiKind.PCP_HIGH, "              high:     "),
      new Literal(ZiKind.PCP_BATCH, "              batch:    "),
      new Literal(ZiKind.PCP_HIGH_MIN, "              high_min: "),
      new Literal(ZiKind.PCP_HIGH_MAX, "              high_max: "),
      new Literal(ZiKind.THRESHOLD, "  vm stats threshold: "),
      new Literal(ZiKind.NODE_UNRECLAIMABLE, "  node_unreclaimable:  "),
      new Literal(ZiKind.START_PFN, "  start_pfn:           "));

  /** v6.1 had no promo line and printed three pcp fields aligned on "batch: ". */
  private static final List<Literal> LITERALS_6_1 = List.of(
      new Literal(ZiKind.PAGES_FREE, "  pages free     "),
      new Literal(ZiKind.BOOST, "        boost    "),
      new Literal(ZiKind.MIN, "        min      "),
      new Literal(ZiKind.LOW, "        low      "),
      new Literal(ZiKind.HIGH, "        high     "),
      new Literal(ZiKind.SPANNED, "        spanned  "),
      new Literal(ZiKind.PRESENT, "        present  "),
      new Literal(ZiKind.MANAGED, "        managed  "),
      new Literal(ZiKind.CMA, "        cma      "),
      new Literal(ZiKind.CPU, "    cpu: "),
      new Literal(ZiKind.PCP_COUNT, "              count: "),
      new Literal(ZiKind.PCP_HIGH, "              high:  "),
      new Literal(ZiKind.PCP_BATCH, "              batch: "),
      new Literal(ZiKind.THRESHOLD, "  vm stats threshold: "),
      new Literal(ZiKind.NODE_UNRECLAIMABLE, "  node_unreclaimable:  "),
      new Literal(ZiKind.START_PFN, "  start_pfn:           "));

  /** A zoneinfo line classified and printed again with the version's formats. */
  record ZiLine(ZiKind kind, String reprint) {}

  static ZiLine zoneinfoLine(String line, ZoneinfoVersion v) {
    if (line.startsWith("Node ")) {
      Matcher m = match(Pattern.compile("Node (\\d+), zone +(\\S+)"), line);
      return new ZiLine(ZiKind.NODE_ZONE,
          fmt("Node %d, zone %8s", Integer.parseInt(m.group(1)), m.group(2)));
    }
    if (line.equals("  per-node stats")) {
      return new ZiLine(ZiKind.PER_NODE_STATS, line);
    }
    if (line.equals("  pagesets")) {
      return new ZiLine(ZiKind.PAGESETS, line);
    }
    if (line.startsWith("        protection: (")) {
      Matcher m =
          match(Pattern.compile("        protection: \\((-?\\d+(?:, -?\\d+)*)\\)"), line);
      List<String> values = List.of(m.group(1).split(", "));
      StringBuilder sb =
          new StringBuilder(fmt("        protection: (%d", Long.parseLong(values.get(0))));
      for (String x : values.subList(1, values.size())) {
        sb.append(fmt(", %d", Long.parseLong(x)));
      }
      return new ZiLine(ZiKind.PROTECTION, sb.append(')').toString());
    }
    for (Literal lit : v == ZoneinfoVersion.V6_1 ? LITERALS_6_1 : LITERALS_6_17) {
      if (line.startsWith(lit.prefix()) && line.substring(lit.prefix().length()).matches("\\d+")) {
        return new ZiLine(lit.kind(),
            lit.prefix() + fmt("%d", Long.parseLong(line.substring(lit.prefix().length()))));
      }
    }
    Matcher m = STAT_LINE.matcher(line);
    if (m.matches()) {
      return new ZiLine(ZiKind.STAT, fmt("      %-12s %d", m.group(1), Long.parseLong(m.group(2))));
    }
    return fail("not a " + v + " zoneinfo line: '" + line + "'");
  }

  /** The name of a "      %-12s %lu" counter line. */
  static String statName(String line) {
    return match(STAT_LINE, line).group(1);
  }

  /** The kinds of a zoneinfo text's lines, counter lines left out. */
  static List<ZiKind> zoneinfoSkeleton(List<String> lines, ZoneinfoVersion v) {
    List<ZiKind> out = new ArrayList<>();
    for (String line : lines) {
      ZiKind k = zoneinfoLine(line, v).kind();
      if (k != ZiKind.STAT) {
        out.add(k);
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- extfrag, vmstat

  /** extfrag_show_print() ("%2d.%03d ") or unusable_show_print() ("%d.%03d "). */
  static String reprintIndexLine(String line, boolean extfrag) {
    Matcher m = match(INDEX_LINE, line);
    StringBuilder sb = new StringBuilder(
        fmt("Node %d, zone %8s ", Integer.parseInt(m.group(1)), m.group(2)));
    for (String f : fields(m.group(3))) {
      int dot = f.indexOf('.');
      sb.append(fmt(extfrag ? "%2d.%03d " : "%d.%03d ", Integer.parseInt(f.substring(0, dot)),
          Integer.parseInt(f.substring(dot + 1))));
    }
    return sb.toString();
  }

  /** vmstat_show(): the item name, " " and the value. */
  static String reprintVmstat(String line) {
    Matcher m = match(Pattern.compile("([a-z0-9_]+) (\\d+)"), line);
    return m.group(1) + " " + fmt("%d", Long.parseLong(m.group(2)));
  }

  /** The item names of vmstat lines. */
  static List<String> vmstatNames(List<String> lines) {
    return lines.stream().map(l -> l.substring(0, l.indexOf(' '))).toList();
  }
}
