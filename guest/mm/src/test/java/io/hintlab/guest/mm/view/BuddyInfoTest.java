package io.hintlab.guest.mm.view;

import static io.hintlab.guest.mm.view.KernelFormats.countFields;
import static io.hintlab.guest.mm.view.KernelFormats.reprintBuddyinfo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.Zone;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link BuddyInfo} mirrors frag_show_print() (mm/vmstat.c). */
class BuddyInfoTest {

  @Test
  void shouldAcceptEveryLineOfTheRealCaptureWhenCheckingTheShape() {
    // Guards the shape checker itself: the real kernel's lines must pass it.
    for (String line : Captures.file("buddyinfo")) {
      assertEquals(line, reprintBuddyinfo(line));
      assertEquals(11, countFields(line));
    }
  }

  @Test
  void shouldHaveTheCapturesLayoutLineByLineWhenTheGuestIsLikeTheCapture() {
    List<String> capture = Captures.file("buddyinfo");
    List<String> model = Captures.lines(BuddyInfo.render(Guests.boot1gLikeCapture()));
    assertEquals(capture.size(), model.size());
    for (int i = 0; i < model.size(); i++) {
      String line = model.get(i);
      assertEquals(line, reprintBuddyinfo(line));
      assertEquals(countFields(capture.get(i)), countFields(line));
      // "Node 0, zone      DMA " / "Node 0, zone    DMA32 ": the same zones, same columns
      assertEquals(capture.get(i).substring(0, 22), line.substring(0, 22));
    }
  }

  @Test
  void shouldPrintTheBootFreeListsOfA64MibGuestExactly() {
    // DMA spans pfns [1, 4096): pfn 0 is a hole. memblock_free_all() frees the largest aligned
    // block at each pfn, so boot frees order 0 at pfn 1, order 1 at 2, order 2 at 4, ...,
    // order 9 at 512, then order-10 blocks at 1024, 2048 and 3072. None of them merges: every
    // low block's buddy lies at pfn 0, and order 10 is MAX_PAGE_ORDER. DMA32 spans
    // [4096, 16384): twelve aligned order-10 blocks.
    String expected = ""
        + "Node 0, zone      DMA      1      1      1      1      1      1      1      1      1"
        + "      1      3 \n"
        + "Node 0, zone    DMA32      0      0      0      0      0      0      0      0      0"
        + "      0     12 \n";
    assertEquals(expected, BuddyInfo.render(Guests.boot64m()));
  }

  @Test
  void shouldCountFreeBlocksAndLeavePerCpuPagesOutWhenBlocksWaitOnPerCpuLists() {
    PageAllocator a = Guests.boot64m();
    int pfn = a.allocPages(0, 3, Gfp.GFP_KERNEL);
    a.freePages(0, pfn, 3); // order 3 is a pcp order: the block waits on cpu 0's list
    Zone dma32 = a.zones().get(1);
    int onPcp = dma32.pcp(0).count();
    String line = Captures.lines(BuddyInfo.render(a)).get(1);
    // nr_free counts blocks of 2^order pages on the buddy free lists only
    assertEquals(dma32.managedPages() - onPcp, sumPages(line));
    assertTrue(onPcp >= 8, "the freed order-3 block is on the pcp list, count " + onPcp);
  }

  private static long sumPages(String line) {
    List<String> fields = KernelFormats.fields(line.substring(22));
    long pages = 0;
    for (int o = 0; o < fields.size(); o++) {
      pages += Long.parseLong(fields.get(o)) << o;
    }
    return pages;
  }
}
