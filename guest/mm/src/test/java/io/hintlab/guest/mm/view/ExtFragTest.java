package io.hintlab.guest.mm.view;

import static io.hintlab.guest.mm.view.KernelFormats.reprintIndexLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.hintlab.guest.mm.PageAllocator;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link ExtFrag} mirrors fill_contig_page_info(), __fragmentation_index(),
 * unusable_free_index(), extfrag_for_order(), extfrag_show_print() and unusable_show_print()
 * (mm/vmstat.c).
 */
class ExtFragTest {
  /** Orders 0..10 of x86-64. */
  private static long[] nrFree(long... low) {
    long[] v = new long[11];
    System.arraycopy(low, 0, v, 0, low.length);
    return v;
  }

  @Test
  void shouldFillContigPageInfoFromNrFreePerOrder() {
    // 4 order-0, 2 order-1, 1 order-3: 4 + 4 + 8 = 16 pages in 7 blocks; at order 1 the
    // suitable blocks are 2 (order 1) + 1 << 2 (order 3 holds four order-1 blocks) = 6.
    assertEquals(new ContigPageInfo(16, 7, 6), ContigPageInfo.fill(nrFree(4, 2, 0, 1), 1));
    assertEquals(new ContigPageInfo(16, 7, 1), ContigPageInfo.fill(nrFree(4, 2, 0, 1), 3));
  }

  @Test
  void shouldReturnZeroWhenNothingIsFree() {
    assertEquals(0, ExtFrag.fragmentationIndex(nrFree(), 3));
  }

  @Test
  void shouldReturnMinusOneThousandWhenASuitableBlockExists() {
    assertEquals(-1000, ExtFrag.fragmentationIndex(nrFree(4, 2, 0, 1), 3));
    assertEquals(-1000, ExtFrag.fragmentationIndex(nrFree(1), 0));
  }

  @Test
  void shouldComputeTheIndexWithIntegerDivisionsWhenTheAllocationWouldFail() {
    // 1000 - (1000 + free_pages * 1000 / requested) / free_blocks_total
    // 4 order-0 + 2 order-1 = 8 pages in 6 blocks, order 2: 1000 - (1000 + 2000) / 6 = 500
    assertEquals(500, ExtFrag.fragmentationIndex(nrFree(4, 2), 2));
    // 10 order-0 pages, order 3: 1000 - (1000 + 1250) / 10 = 775
    assertEquals(775, ExtFrag.fragmentationIndex(nrFree(10), 3));
    // 3 order-0 pages, order 10: 1000 - (1000 + 3000 / 1024 = 2) / 3 = 1000 - 334 = 666
    assertEquals(666, ExtFrag.fragmentationIndex(nrFree(3), 10));
    // one order-0 page, order 1: 1000 - 1500 / 1 = -500; the kernel does not clamp
    assertEquals(-500, ExtFrag.fragmentationIndex(nrFree(1), 1));
  }

  @Test
  void shouldComputeUnusableFreeIndexAndExtfragForOrder() {
    long[] free = nrFree(4, 2); // 8 pages
    assertEquals(0, ExtFrag.unusableFreeIndex(free, 0));
    assertEquals(500, ExtFrag.unusableFreeIndex(free, 1)); // the 4 order-0 pages are unusable
    assertEquals(1000, ExtFrag.unusableFreeIndex(free, 2));
    assertEquals(1000, ExtFrag.unusableFreeIndex(nrFree(), 0), "nothing free: all unusable");
    assertEquals(50, ExtFrag.extfragForOrder(free, 1));
    assertEquals(0, ExtFrag.extfragForOrder(nrFree(), 5));
  }

  @Test
  void shouldRejectAnOrderOutsideTheFreeArea() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ExtFrag.fragmentationIndex(nrFree(1), 11));
    assertEquals("order must be in [0, 11), got 11", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ExtFrag.unusableFreeIndex(nrFree(1), -1));
  }

  @Test
  void shouldFormatIndicesAsCsPrintfDoesWithTruncatingDivision() {
    assertEquals("-1.000 ", ExtFrag.formatIndex(-1000, true));
    assertEquals(" 0.775 ", ExtFrag.formatIndex(775, true));
    assertEquals(" 0.000 ", ExtFrag.formatIndex(0, true));
    assertEquals(" 0.-500 ", ExtFrag.formatIndex(-500, true)); // -500 / 1000 = 0, % = -500
    assertEquals("1.000 ", ExtFrag.formatIndex(1000, false));
    assertEquals("0.062 ", ExtFrag.formatIndex(62, false));
  }

  @Test
  void shouldPrintTheUnusableIndexOfA64MibGuestExactlyAtBoot() {
    // DMA holds one free block of each order 0..9 and three of order 10 (4095 pages): for
    // order k the unusable pages are 1 + 2 + ... + 2^(k-1) = 2^k - 1, index (2^k - 1) * 1000 /
    // 4095. DMA32 holds only order-10 blocks: nothing is unusable.
    String expected = ""
        + "Node 0, zone      DMA 0.000 0.000 0.000 0.001 0.003 0.007 0.015 0.031 0.062 0.124"
        + " 0.249 \n"
        + "Node 0, zone    DMA32 0.000 0.000 0.000 0.000 0.000 0.000 0.000 0.000 0.000 0.000"
        + " 0.000 \n";
    assertEquals(expected, ExtFrag.renderUnusableIndex(Guests.boot64m()));
  }

  @Test
  void shouldPrintMinusOneForEveryOrderWhenEveryZoneHasAMaxOrderBlock() {
    String minusOnes = " -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000 -1.000"
        + " -1.000 \n";
    assertEquals("Node 0, zone      DMA" + minusOnes + "Node 0, zone    DMA32" + minusOnes,
        ExtFrag.renderExtfragIndex(Guests.boot64m()));
  }

  @Test
  void shouldKeepTheKernelsLayoutWhenMemoryIsFragmented() {
    PageAllocator a = Guests.fragmentOrder0(Guests.boot64m());
    List<String> extfrag = Captures.lines(ExtFrag.renderExtfragIndex(a));
    List<String> unusable = Captures.lines(ExtFrag.renderUnusableIndex(a));
    assertEquals(2, extfrag.size());
    for (String line : extfrag) {
      assertEquals(line, reprintIndexLine(line, true));
    }
    for (String line : unusable) {
      assertEquals(line, reprintIndexLine(line, false));
    }
    long[] dma32 = ExtFrag.nrFree(a.zones().get(1));
    StringBuilder sb = new StringBuilder("Node 0, zone    DMA32 ");
    for (int o = 0; o < 11; o++) {
      sb.append(ExtFrag.formatIndex(ExtFrag.fragmentationIndex(dma32, o), true));
    }
    assertEquals(sb.toString(), extfrag.get(1));
  }
}
