package io.hintlab.guest.workload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FtraceParserTest {

  private static FtraceParser.Trace parse(String text) throws IOException {
    return FtraceParser.parse(new StringReader(text), "t.txt");
  }

  @Test
  void parsesNewHexFormat() throws IOException {
    FtraceParser.Trace t =
        parse(
            "# tracer: nop\n"
                + "#\n"
                + "  bash-1234  [001] d..1.  100.000001: mm_page_alloc: page=00000000abcd pfn=0x1a2b"
                + " order=2 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_ZERO\n"
                + "  bash-1234  [001] d..1.  100.000002: mm_page_free: page=00000000abcd pfn=0x1a2b"
                + " order=2\n"
                + "\n"
                + " kswapd0-55  [000] ....  100.000003: mm_page_free_batched: page=0000 pfn=0x10"
                + " order=0\n");
    assertEquals(3, t.size());
    assertArrayEquals(
        new byte[] {FtraceParser.ALLOC, FtraceParser.FREE, FtraceParser.FREE}, t.kind());
    assertArrayEquals(new long[] {0x1a2b, 0x1a2b, 0x10}, t.pfn());
    assertArrayEquals(new int[] {2, 2, 0}, t.order());
    assertArrayEquals(new int[] {1, -1, -1}, t.migratetype());
    assertArrayEquals(new int[] {1, 1, 0}, t.cpu());
  }

  @Test
  void parsesOldDecimalFormatWithoutFlagsColumn() throws IOException {
    FtraceParser.Trace t =
        parse(
            "<idle>-0 [006] 1110.217281: mm_page_alloc: page=ffffea0064142000 pfn=26235008"
                + " order=3 migratetype=0 gfp_flags=GFP_KERNEL\n"
                + "<idle>-0 [006] d.s. 1110.217282: mm_page_free: page=ffffea0064142000"
                + " pfn=26235008 order=3\n");
    assertEquals(2, t.size());
    assertArrayEquals(new long[] {26235008L, 26235008L}, t.pfn());
    assertArrayEquals(new int[] {6, 6}, t.cpu());
  }

  @Test
  void failedAllocationIsCountedNotRecorded() throws IOException {
    FtraceParser.Trace t =
        parse(
            "a-1 [000] .... 1.000000: mm_page_alloc: page=(null) pfn=0 order=9 migratetype=1"
                + " gfp_flags=GFP_TRANSHUGE\n");
    assertEquals(0, t.size());
    assertEquals(1, t.failedAllocs());
  }

  @Test
  void unrelatedEventNamesFileAndLine() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                parse(
                    "# header\n"
                        + "a-1 [000] .... 1.000000: mm_page_free: page=0 pfn=0x10 order=0\n"
                        + "a-1 [000] .... 1.000001: sched_switch: prev_comm=a\n"));
    assertTrue(e.getMessage().startsWith("t.txt:3: not an mm_page_alloc"), e.getMessage());
  }

  @Test
  void badPfnNamesLineAndValue() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> parse("a-1 [000] .... 1.000000: mm_page_free: page=0 pfn=0xzz order=0\n"));
    assertEquals("t.txt:1: bad pfn value '0xzz'", e.getMessage());
  }

  @Test
  void allocWithoutMigratetypeIsRejected() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> parse("a-1 [000] .... 1.000000: mm_page_alloc: page=0 pfn=0x10 order=0\n"));
    assertEquals("t.txt:1: mm_page_alloc without migratetype", e.getMessage());
  }

  @Test
  void missingOrderIsRejected() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> parse("a-1 [000] .... 1.000000: mm_page_free: page=0 pfn=0x10\n"));
    assertEquals("t.txt:1: missing or bad order", e.getMessage());
  }

  @Test
  void fileErrorsNameTheFile(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("trace.txt");
    Files.writeString(f, "garbage\n");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> FtraceParser.parse(f));
    assertTrue(e.getMessage().startsWith(f + ":1: "), e.getMessage());
  }

  @Test
  void growsPastInitialCapacity() throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 3000; i++) {
      sb.append("a-1 [001] .... 1.000000: mm_page_free: page=0 pfn=0x")
          .append(Integer.toHexString(i + 1))
          .append(" order=0\n");
    }
    FtraceParser.Trace t = parse(sb.toString());
    assertEquals(3000, t.size());
    assertEquals(3000, t.pfn()[2999]);
  }
}
