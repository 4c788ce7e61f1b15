package io.hintlab.guest.mm.view;

import static io.hintlab.guest.mm.view.KernelFormats.reprintVmstat;
import static io.hintlab.guest.mm.view.KernelFormats.vmstatNames;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link VmStat} mirrors vmstat_start() and vmstat_show() (mm/vmstat.c, v6.17). */
class VmStatTest {

  @Test
  void shouldAcceptEveryLineOfTheRealCaptureWhenCheckingTheShape() {
    for (String line : Captures.file("vmstat")) {
      assertEquals(line, reprintVmstat(line));
    }
  }

  @Test
  void shouldPrintItemsInTheCapturesOrderAndEndWithNrUnstableWhenCmaIsOff() {
    List<String> model = Captures.lines(VmStat.render(Guests.boot1gLikeCapture()));
    for (String line : model) {
      assertEquals(line, reprintVmstat(line));
    }
    List<String> captureNames = vmstatNames(Captures.file("vmstat"));
    List<String> names = new ArrayList<>(vmstatNames(model));
    assertEquals("nr_unstable 0", model.get(model.size() - 1));
    assertEquals("nr_unstable", captureNames.get(captureNames.size() - 1));
    // v6.15+ added nr_free_pages_blocks right after nr_free_pages; everything else the model
    // prints is in the 6.1 capture, in the same relative order.
    assertEquals("nr_free_pages_blocks", names.get(1));
    names.remove("nr_free_pages_blocks");
    assertEquals(names, captureNames.stream().filter(names::contains).toList());
  }

  @Test
  void shouldPrintCmaAllocEventsAfterCompactionOnlyWhenCmaIsConfigured() {
    // #ifdef CONFIG_CMA: cma_alloc_success/fail follow htlb_buddy_alloc_fail (itself after the
    // compaction events) and precede unevictable_pgs_culled, then come balloon_*.
    List<String> withCma = vmstatNames(Captures.lines(VmStat.render(Guests.boot64m())));
    int i = withCma.indexOf("compact_daemon_free_scanned");
    assertEquals(List.of("cma_alloc_success", "cma_alloc_fail", "balloon_inflate"),
        withCma.subList(i + 1, i + 4));
    List<String> without = vmstatNames(Captures.lines(VmStat.render(
        new PageAllocator(MmConfig.builder().memory(64L << 20).cma(false).build()))));
    assertEquals(withCma.size() - 2, without.size());
  }

  @Test
  void shouldPrintTheBootCountersOfA64MibGuestExactly() {
    // 16383 free pages (DMA 4095 + DMA32 12288); in blocks of order >= 9: DMA's order-9 block
    // at 512 and three order-10 blocks (3584) plus DMA32's twelve order-10 blocks (12288).
    String expected = ""
        + "nr_free_pages 16383\n"
        + "nr_free_pages_blocks 15872\n"
        + "nr_free_cma 0\n"
        + "pgalloc_dma 0\n"
        + "pgalloc_dma32 0\n"
        + "pgalloc_normal 0\n"
        + "pgalloc_movable 0\n"
        + "pgalloc_device 0\n"
        + "pgfree 0\n"
        + "pgmigrate_success 0\n"
        + "pgmigrate_fail 0\n"
        + "compact_migrate_scanned 0\n"
        + "compact_free_scanned 0\n"
        + "compact_isolated 0\n"
        + "compact_stall 0\n"
        + "compact_fail 0\n"
        + "compact_success 0\n"
        + "compact_daemon_wake 0\n"
        + "compact_daemon_migrate_scanned 0\n"
        + "compact_daemon_free_scanned 0\n"
        + "balloon_inflate 0\n"
        + "balloon_deflate 0\n"
        + "balloon_migrate 0\n"
        + "nr_unstable 0\n";
    assertEquals(expected, VmStat.render(
        new PageAllocator(MmConfig.builder().memory(64L << 20).cma(false).build())));
  }

  @Test
  void shouldCountAllocatedAndFreedPagesPerZoneWhenBlocksComeAndGo() {
    PageAllocator a = Guests.boot64m();
    int dma = a.allocPages(0, 4, Gfp.GFP_DMA | Gfp.GFP_KERNEL); // 16 pages from ZONE_DMA
    int dma32 = a.allocPages(0, 5, Gfp.GFP_KERNEL); // 32 pages from DMA32 (order 5: no pcp)
    a.freePages(0, dma32, 5);
    List<String> lines = Captures.lines(VmStat.render(a));
    assertEquals("pgalloc_dma 16", lines.get(3));
    assertEquals("pgalloc_dma32 32", lines.get(4));
    assertEquals("pgfree 32", lines.get(8));
    assertEquals("nr_free_pages " + (16383 - 16), lines.get(0));
    assertTrue(dma >= 1 && dma < 4096, "ZONE_DMA pfn " + dma);
  }
}
