package io.hintlab.guest.mm.proc;

import io.hintlab.guest.mm.ZoneType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the text of /proc/zoneinfo as zoneinfo_show_print() (mm/vmstat.c) prints it for every
 * zone of one node, keeping per zone the lines the model can use: "pages free", "boost", "min",
 * "low", "high", "promo", "spanned", "present", "managed", "cma", "protection: (...)" and
 * "start_pfn:".
 *
 * <p>Tolerant of what it does not need: the "per-node stats" block, zone counters and NUMA
 * events ({@code "      %-12s %lu"}), the pagesets of any kernel version, "vm stats threshold",
 * "node_unreclaimable" and unknown indented {@code name value} lines are skipped. Strict on the
 * lines it reads: they must have the kernel's layout ({@code "        min      %lu"}), come in the
 * kernel's order, appear once per zone, and carry numbers; "boost", "promo" and "cma" may be
 * absent (older kernels), the others are required. Unpopulated zones (no counters, pagesets or
 * start_pfn) are fine. Errors are {@link IllegalArgumentException}s reading {@code source:line:
 * what was expected}. Only one node is supported: the model has one.
 */
public final class ZoneinfoParser {
  private static final Pattern ZONE_HEADER = Pattern.compile("Node (\\S+), zone +(\\S+)");
  private static final Pattern PROTECTION =
      Pattern.compile("        protection: \\((-?\\d+(?:, -?\\d+)*)\\)");
  /** Indented "name value" or "name: value" lines: stats, pagesets, thresholds. */
  private static final Pattern SKIPPED =
      Pattern.compile(" +[A-Za-z_][A-Za-z0-9_ ]*:? +-?\\d+");
  private static final String ZONE_NAMES = "DMA, DMA32, Normal, Movable or Device";

  /** The lines read, in the kernel's order, with the prefix each must have. */
  private enum Field {
    PAGES_FREE("pages free", "  pages free     ", true),
    BOOST("boost", "        boost    ", false),
    MIN("min", "        min      ", true),
    LOW("low", "        low      ", true),
    HIGH("high", "        high     ", true),
    PROMO("promo", "        promo    ", false),
    SPANNED("spanned", "        spanned  ", true),
    PRESENT("present", "        present  ", true),
    MANAGED("managed", "        managed  ", true),
    CMA("cma", "        cma      ", false),
    PROTECTION("protection:", "        protection: ", true),
    START_PFN("start_pfn:", "  start_pfn:           ", false);

    final String key;
    final String prefix;
    final boolean required;

    Field(String key, String prefix, boolean required) {
      this.key = key;
      this.prefix = prefix;
      this.required = required;
    }

    static Field of(String trimmed) {
      for (Field f : values()) {
        if (trimmed.equals(f.key) || trimmed.startsWith(f.key + " ")) {
          return f;
        }
      }
      return null;
    }
  }

  private final Lines in;
  private int nodeId = -1;
  private int nodeLine;
  private final List<ZoneLines> zones = new ArrayList<>();
  private final Map<ZoneType, ZoneLines> byZone = new EnumMap<>(ZoneType.class);

  /** The lines of one zone while they are read. */
  private static final class ZoneLines {
    final ZoneType zone;
    final int line;
    final long[] value = new long[Field.values().length];
    final int[] at = new int[Field.values().length];
    List<Long> protection = List.of();
    Field last;

    ZoneLines(ZoneType zone, int line) {
      this.zone = zone;
      this.line = line;
      Arrays.fill(at, -1);
    }

    boolean has(Field f) {
      return at[f.ordinal()] >= 0;
    }

    long get(Field f) {
      return value[f.ordinal()];
    }

    OptionalLong optional(Field f) {
      return has(f) ? OptionalLong.of(get(f)) : OptionalLong.empty();
    }
  }

  private ZoneinfoParser(Lines in) {
    this.in = in;
  }

  /**
   * Parses /proc/zoneinfo text.
   *
   * @param text the file's content
   * @param source the name to put in error messages (a file name)
   * @return the zones' fields
   * @throws IllegalArgumentException naming source, line and what was expected
   */
  public static ZoneinfoData parse(String text, String source) {
    if (text == null) {
      throw new IllegalArgumentException("text must not be null");
    }
    return parse(text.lines().toList(), source);
  }

  /**
   * Parses /proc/zoneinfo lines (without line terminators).
   *
   * @param lines the file's lines
   * @param source the name to put in error messages (a file name)
   * @return the zones' fields
   * @throws IllegalArgumentException naming source, line and what was expected
   */
  public static ZoneinfoData parse(List<String> lines, String source) {
    return new ZoneinfoParser(new Lines(lines, source)).parse();
  }

  private ZoneinfoData parse() {
    ZoneLines current = null;
    int idx = 0;
    for (; !in.atEnd(idx); idx++) {
      String l = in.get(idx);
      if (l.isEmpty()) {
        if (in.onlyBlankFrom(idx)) {
          break;
        }
        throw in.error(idx, "unexpected blank line");
      }
      if (l.startsWith("Node ")) {
        finishZone(current);
        current = startZone(idx, l);
      } else if (current == null) {
        throw in.error(idx, "expected 'Node <n>, zone <name>', got '" + l + "'");
      } else if (l.startsWith(" ")) {
        readIndented(current, idx, l);
      } else {
        throw in.error(idx, "expected an indented zone line or 'Node <n>, zone <name>', got '"
            + l + "'");
      }
    }
    if (current == null) {
      throw in.error(idx, "expected 'Node <n>, zone <name>', got " + in.describe(idx));
    }
    finishZone(current);
    checkProtectionLengths();
    List<ZoneinfoData.Zone> out = new ArrayList<>();
    for (ZoneLines z : zones) {
      out.add(toRecord(z));
    }
    return new ZoneinfoData(nodeId, out);
  }

  /** {@code "Node %d, zone %8s"}: zones in the kernel's order, once each, one node. */
  private ZoneLines startZone(int idx, String l) {
    Matcher m = ZONE_HEADER.matcher(l);
    if (!m.matches()) {
      throw in.error(idx, "expected 'Node <n>, zone <name>', got '" + l + "'");
    }
    long node = in.number(idx, m.group(1), "a node number after 'Node'");
    ZoneType zone = ZoneType.byKernelName(m.group(2));
    if (zone == null) {
      throw in.error(idx, "unknown zone '" + m.group(2) + "' (expected " + ZONE_NAMES + ")");
    }
    String want = Lines.right(new StringBuilder("Node " + node + ", zone "), zone.kernelName(), 8)
        .toString();
    if (!l.equals(want)) {
      throw in.error(idx, "expected the kernel's spacing '" + want + "', got '" + l + "'");
    }
    if (nodeId < 0) {
      nodeId = (int) Math.min(node, Integer.MAX_VALUE);
      nodeLine = idx;
    } else if (node != nodeId) {
      throw in.error(idx, "only one NUMA node is supported: node " + node + " after node "
          + nodeId + " (line " + (nodeLine + 1) + ")");
    }
    ZoneLines seen = byZone.get(zone);
    if (seen != null) {
      throw in.error(idx, "duplicate zone " + zone.kernelName() + " (first at line "
          + (seen.line + 1) + ")");
    }
    ZoneType previous = zones.isEmpty() ? null : zones.get(zones.size() - 1).zone;
    if (previous != null && zone.ordinal() < previous.ordinal()) {
      throw in.error(idx, "zone " + zone.kernelName() + " after zone " + previous.kernelName()
          + ": zones must be in the kernel's order");
    }
    ZoneLines z = new ZoneLines(zone, idx);
    zones.add(z);
    byZone.put(zone, z);
    return z;
  }

  /** A line of a zone: one of the fields, or a line to skip. */
  private void readIndented(ZoneLines z, int idx, String l) {
    Field f = Field.of(l.strip());
    if (f == null) {
      if (!l.equals("  per-node stats") && !l.equals("  pagesets")
          && !SKIPPED.matcher(l).matches()) {
        throw in.error(idx, "unexpected line in zone " + z.zone.kernelName() + ": '" + l + "'");
      }
      return;
    }
    if (z.has(f)) {
      throw in.error(idx, "duplicate '" + f.key + "' line in zone " + z.zone.kernelName()
          + " (first at line " + (z.at[f.ordinal()] + 1) + ")");
    }
    if (z.last != null && f.ordinal() < z.last.ordinal()) {
      throw in.error(idx, "'" + f.key + "' must come before '" + z.last.key
          + "' (the kernel prints pages free, boost, min, low, high, promo, spanned, present, "
          + "managed, cma, protection, start_pfn)");
    }
    if (f == Field.PROTECTION) {
      z.protection = protection(idx, l);
    } else {
      z.value[f.ordinal()] = value(idx, l, f);
    }
    z.at[f.ordinal()] = idx;
    z.last = f;
    checkRange(z, idx, f);
  }

  private long value(int idx, String l, Field f) {
    String what = "'" + f.prefix + "<number>'";
    if (!l.startsWith(f.prefix)) {
      throw in.error(idx, "expected " + what + ", got '" + l + "'");
    }
    String rest = l.substring(f.prefix.length());
    if (!Lines.isDigits(rest)) {
      throw in.error(idx, "expected " + what + ", got '" + l + "'");
    }
    return in.number(idx, rest, "a number after '" + f.key + "'");
  }

  /** {@code "        protection: (%ld, %ld, ...)"}: lowmem_reserve[]. */
  private List<Long> protection(int idx, String l) {
    Matcher m = PROTECTION.matcher(l);
    if (!m.matches()) {
      throw in.error(idx, "expected '        protection: (<n>, <n>, ...)', got '" + l + "'");
    }
    List<Long> out = new ArrayList<>();
    for (String t : m.group(1).split(", ")) {
      try {
        out.add(Long.parseLong(t));
      } catch (NumberFormatException e) {
        throw in.error(idx, "protection value '" + t + "' is too large");
      }
    }
    return out;
  }

  /** Relations every kernel keeps: watermarks include the boost and grow min to promo. */
  private void checkRange(ZoneLines z, int idx, Field f) {
    switch (f) {
      case MIN -> below(z, idx, Field.BOOST, f, "min_wmark_pages() includes the boost");
      case LOW -> below(z, idx, Field.MIN, f, "low = min + a positive step");
      case HIGH -> below(z, idx, Field.LOW, f, "high = low + a positive step");
      case PROMO -> below(z, idx, Field.HIGH, f, "promo = high + a positive step");
      case PRESENT -> above(z, idx, Field.SPANNED, f);
      case MANAGED -> above(z, idx, Field.PRESENT, f);
      default -> { }
    }
  }

  /** lower (if present) must not exceed f. */
  private void below(ZoneLines z, int idx, Field lower, Field f, String why) {
    if (z.has(lower) && z.get(f) < z.get(lower)) {
      throw in.error(idx, f.key + " " + z.get(f) + " is below " + lower.key + " "
          + z.get(lower) + " (" + why + ")");
    }
  }

  /** f must not exceed upper (if present). */
  private void above(ZoneLines z, int idx, Field upper, Field f) {
    if (z.has(upper) && z.get(f) > z.get(upper)) {
      throw in.error(idx, f.key + " " + z.get(f) + " exceeds " + upper.key + " "
          + z.get(upper));
    }
  }

  private void finishZone(ZoneLines z) {
    if (z == null) {
      return;
    }
    for (Field f : Field.values()) {
      if (f.required && !z.has(f)) {
        throw in.error(z.line, "zone " + z.zone.kernelName() + " has no '" + f.key + "' line");
      }
    }
  }

  /** lowmem_reserve[] has MAX_NR_ZONES entries, and zoneinfo lists all MAX_NR_ZONES zones. */
  private void checkProtectionLengths() {
    for (ZoneLines z : zones) {
      if (z.protection.size() != zones.size()) {
        throw in.error(z.at[Field.PROTECTION.ordinal()], "protection of zone "
            + z.zone.kernelName() + " has " + z.protection.size() + " entries but the node "
            + "lists " + zones.size() + " zones");
      }
    }
  }

  private static ZoneinfoData.Zone toRecord(ZoneLines z) {
    return new ZoneinfoData.Zone(z.zone, z.get(Field.PAGES_FREE), z.get(Field.BOOST),
        z.get(Field.MIN), z.get(Field.LOW), z.get(Field.HIGH), z.optional(Field.PROMO),
        z.get(Field.SPANNED), z.get(Field.PRESENT), z.get(Field.MANAGED), z.get(Field.CMA),
        z.protection, z.optional(Field.START_PFN));
  }
}
