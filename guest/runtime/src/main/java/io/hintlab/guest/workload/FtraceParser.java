package io.hintlab.guest.workload;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses ftrace text output of the kmem page events into primitive arrays, for the {@code replay}
 * workload.
 *
 * <p>Accepted events (include/trace/events/kmem.h): {@code mm_page_alloc} (alloc),
 * {@code mm_page_free} and {@code mm_page_free_batched} (free). Both pfn formats are accepted:
 * the old decimal {@code pfn=%lu} (v2.6.33 to about v5.4) and the newer hex {@code pfn=0x%lx}.
 * Line prefix: {@code <comm>-<pid> [<cpu>] <flags> <secs.usecs>: <event>: <fields>}; the flags
 * column is optional (traces recorded without irq-info). Blank lines and {@code #} header lines
 * are skipped. A failed allocation ({@code pfn=0}, {@code page=(null)}) is counted, not
 * recorded. Any other line is an error naming the file and the 1-based line number.
 */
public final class FtraceParser {

  /** Event kind of an allocation in {@link Trace#kind}. */
  public static final byte ALLOC = 1;

  /** Event kind of a free in {@link Trace#kind}. */
  public static final byte FREE = 2;

  private static final Pattern LINE =
      Pattern.compile(
          "^\\s*\\S.*?-\\d+\\s+(?:\\(\\s*[-\\d]+\\)\\s+)?\\[(\\d+)\\]\\s+(?:\\S+\\s+)?\\d+\\.\\d+:\\s+"
              + "(mm_page_alloc|mm_page_free|mm_page_free_batched):\\s+(.*)$");

  private FtraceParser() {}

  /**
   * Parsed events in file order. Arrays are exactly {@link #size} long.
   *
   * @param kind {@link #ALLOC} or {@link #FREE}
   * @param cpu the trace's cpu column
   * @param pfn the trace pfn (not yet mapped onto the model)
   * @param order the buddy order
   * @param migratetype the migratetype of allocations, -1 for frees
   * @param size number of events
   * @param failedAllocs allocation events with pfn 0 (allocation failure), skipped
   */
  public record Trace(
      byte[] kind, int[] cpu, long[] pfn, int[] order, int[] migratetype, int size,
      int failedAllocs) {}

  /**
   * Parses a file.
   *
   * @throws IllegalArgumentException naming the file and line on a bad line
   * @throws IOException if the file cannot be read
   */
  public static Trace parse(Path file) throws IOException {
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      return parse(in, file.toString());
    }
  }

  /**
   * Parses text from a reader; {@code name} is used in error messages.
   *
   * @throws IllegalArgumentException naming {@code name} and the line on a bad line
   */
  public static Trace parse(Reader reader, String name) throws IOException {
    BufferedReader in =
        reader instanceof BufferedReader b ? b : new BufferedReader(reader);
    Builder b = new Builder();
    String line;
    int lineNo = 0;
    while ((line = in.readLine()) != null) {
      lineNo++;
      String t = line.strip();
      if (t.isEmpty() || t.startsWith("#")) {
        continue;
      }
      Matcher m = LINE.matcher(line);
      if (!m.matches()) {
        throw new IllegalArgumentException(
            name + ":" + lineNo + ": not an mm_page_alloc or mm_page_free line: " + abbreviate(t));
      }
      parseEvent(b, m, name, lineNo);
    }
    return b.build();
  }

  private static void parseEvent(Builder b, Matcher m, String name, int lineNo) {
    String where = name + ":" + lineNo + ": ";
    int cpu = Integer.parseInt(m.group(1));
    boolean alloc = m.group(2).equals("mm_page_alloc");
    long pfn = -1;
    int order = -1;
    int migratetype = -1;
    for (String field : m.group(3).trim().split("\\s+")) {
      int eq = field.indexOf('=');
      if (eq <= 0) {
        continue; // e.g. gfp_flags values never contain spaces, but tolerate stray tokens
      }
      String key = field.substring(0, eq);
      String value = field.substring(eq + 1);
      try {
        switch (key) {
          case "pfn" -> pfn = parsePfn(value);
          case "order" -> order = Integer.parseInt(value);
          case "migratetype" -> migratetype = Integer.parseInt(value);
          default -> { }
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(where + "bad " + key + " value '" + value + "'");
      }
    }
    if (pfn < 0) {
      throw new IllegalArgumentException(where + "missing pfn");
    }
    if (order < 0 || order > 63) {
      throw new IllegalArgumentException(where + "missing or bad order");
    }
    if (alloc && migratetype < 0) {
      throw new IllegalArgumentException(where + "mm_page_alloc without migratetype");
    }
    if (alloc && pfn == 0) {
      b.failedAllocs++; // mm_page_alloc prints pfn 0 when the allocation failed
      return;
    }
    b.add(alloc ? ALLOC : FREE, cpu, pfn, order, alloc ? migratetype : -1);
  }

  private static long parsePfn(String value) {
    if (value.startsWith("0x") || value.startsWith("0X")) {
      return Long.parseUnsignedLong(value.substring(2), 16);
    }
    return Long.parseUnsignedLong(value);
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }

  /** Growable primitive arrays. */
  private static final class Builder {
    byte[] kind = new byte[1024];
    int[] cpu = new int[1024];
    long[] pfn = new long[1024];
    int[] order = new int[1024];
    int[] mt = new int[1024];
    int size;
    int failedAllocs;

    void add(byte k, int c, long p, int o, int m) {
      if (size == kind.length) {
        int n = size * 2;
        kind = Arrays.copyOf(kind, n);
        cpu = Arrays.copyOf(cpu, n);
        pfn = Arrays.copyOf(pfn, n);
        order = Arrays.copyOf(order, n);
        mt = Arrays.copyOf(mt, n);
      }
      kind[size] = k;
      cpu[size] = c;
      pfn[size] = p;
      order[size] = o;
      mt[size] = m;
      size++;
    }

    Trace build() {
      return new Trace(
          Arrays.copyOf(kind, size), Arrays.copyOf(cpu, size), Arrays.copyOf(pfn, size),
          Arrays.copyOf(order, size), Arrays.copyOf(mt, size), size, failedAllocs);
    }
  }
}
