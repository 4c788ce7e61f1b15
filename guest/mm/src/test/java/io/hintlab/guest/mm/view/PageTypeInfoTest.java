package io.hintlab.guest.mm.view;

import static io.hintlab.guest.mm.view.KernelFormats.pagetypeinfoKind;
import static io.hintlab.guest.mm.view.KernelFormats.pagetypeinfoLabel;
import static io.hintlab.guest.mm.view.KernelFormats.reprintPagetypeinfo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.MigrateType;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.PageIsolation;
import io.hintlab.guest.mm.Zone;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link PageTypeInfo} mirrors pagetypeinfo_show(), pagetypeinfo_showfree_print() and
 * pagetypeinfo_showblockcount_print() (mm/vmstat.c).
 */
class PageTypeInfoTest {

  @Test
  void shouldAcceptEveryLineOfTheRealCaptureWhenCheckingTheShape() {
    // Guards the shape checker itself: the real kernel's lines must pass it.
    for (String line : Captures.file("pagetypeinfo")) {
      assertEquals(line, reprintPagetypeinfo(line));
    }
  }

  @Test
  void shouldMatchTheCaptureLineByLineExceptCountsWhenTheGuestIsLikeTheCapture() {
    // Same zones, same pageblock order, CONFIG_CMA off in both: every header and label is the
    // same byte for byte, and every count field has the kernel's width.
    List<String> capture = Captures.file("pagetypeinfo");
    List<String> model = Captures.lines(PageTypeInfo.render(Guests.boot1gLikeCapture()));
    assertEquals(capture.size(), model.size());
    for (int i = 0; i < model.size(); i++) {
      String line = model.get(i);
      assertEquals(line, reprintPagetypeinfo(line));
      assertEquals(pagetypeinfoKind(capture.get(i)), pagetypeinfoKind(line));
      assertEquals(pagetypeinfoLabel(capture.get(i)), pagetypeinfoLabel(line));
    }
  }

  @Test
  void shouldPrintTheBootStateOfA64MibGuestExactlyWithTheCmaRowWhenCmaIsConfigured() {
    // Boot marks every pageblock Movable and frees all memory to the Movable lists (see
    // BuddyInfoTest for the blocks). Pageblocks counted from zone_start_pfn in steps of 512:
    // DMA pfns 1, 513, ..., 3585 (8 blocks), DMA32 4096..15872 (24 blocks).
    String zeros =
        "      0      0      0      0      0      0      0      0      0      0      0 \n";
    String expected = ""
        + "Page block order: 9\n"
        + "Pages per block:  512\n"
        + "\n"
        + "Free pages count per migrate type at order       0      1      2      3      4      5"
        + "      6      7      8      9     10 \n"
        + "Node    0, zone      DMA, type    Unmovable" + zeros
        + "Node    0, zone      DMA, type      Movable      1      1      1      1      1      1"
        + "      1      1      1      1      3 \n"
        + "Node    0, zone      DMA, type  Reclaimable" + zeros
        + "Node    0, zone      DMA, type   HighAtomic" + zeros
        + "Node    0, zone      DMA, type          CMA" + zeros
        + "Node    0, zone      DMA, type      Isolate" + zeros
        + "Node    0, zone    DMA32, type    Unmovable" + zeros
        + "Node    0, zone    DMA32, type      Movable      0      0      0      0      0      0"
        + "      0      0      0      0     12 \n"
        + "Node    0, zone    DMA32, type  Reclaimable" + zeros
        + "Node    0, zone    DMA32, type   HighAtomic" + zeros
        + "Node    0, zone    DMA32, type          CMA" + zeros
        + "Node    0, zone    DMA32, type      Isolate" + zeros
        + "\n"
        + "Number of blocks type     Unmovable      Movable  Reclaimable   HighAtomic          CMA"
        + "      Isolate \n"
        + "Node 0, zone      DMA            0            8            0            0            0"
        + "            0 \n"
        + "Node 0, zone    DMA32            0           24            0            0            0"
        + "            0 \n";
    assertEquals(expected, PageTypeInfo.render(Guests.boot64m()));
  }

  @Test
  void shouldCapAtOneHundredThousandWithGreaterThanPrefixWhenAFreeListIsThatLong() {
    // The kernel walks each free list under the zone lock and stops when the count reaches
    // 100000, printing ">100000". Half of a 1 GiB guest freed as lone order-0 pages puts
    // more than that on DMA32's order-0 Unmovable list (GFP_KERNEL claimed the pageblocks).
    PageAllocator a = Guests.fragmentOrder0(Guests.boot1gLikeCapture());
    Zone dma32 = a.zones().get(1);
    int length = dma32.freeListLength(0, MigrateType.UNMOVABLE);
    assertTrue(length > PageTypeInfo.FREE_COUNT_CAP, "precondition: list length " + length);
    String line = Captures.lines(PageTypeInfo.render(a)).stream()
        .filter(l -> l.startsWith("Node    0, zone    DMA32, type    Unmovable "))
        .findFirst().orElseThrow();
    assertTrue(line.startsWith("Node    0, zone    DMA32, type    Unmovable >100000 "), line);
    assertEquals(line, reprintPagetypeinfo(line));
    // buddyinfo's nr_free is a counter, not a walk: it is not capped
    String buddy = Captures.lines(BuddyInfo.render(a)).get(1);
    assertEquals(Long.toString(dma32.nrFree(0)), KernelFormats.fields(buddy.substring(22)).get(0));
    assertTrue(dma32.nrFree(0) >= length, buddy);
  }

  @Test
  void shouldPrefixGreaterThanFromExactlyTheCapWhenFormattingAListLength() {
    // "if (++freecount >= 100000) { overflow = true; break; }"
    assertEquals("     0 ", PageTypeInfo.freeCount(0));
    assertEquals(" 99999 ", PageTypeInfo.freeCount(99_999));
    assertEquals(">100000 ", PageTypeInfo.freeCount(100_000));
    assertEquals(">100000 ", PageTypeInfo.freeCount(250_000));
  }

  @Test
  void shouldCountAnIsolatedPageblockAsIsolateWhenItIsIsolated() {
    // v6.16+: isolation is a pageblock bit of its own and get_pfnblock_migratetype() returns
    // MIGRATE_ISOLATE for the block. Isolating DMA32's first pageblock [4096, 4608) of a 64 MiB
    // guest splits the order-10 block at 4096: its first half moves to the Isolate list at
    // order 9, the second half stays Movable at order 9.
    PageAllocator a = Guests.boot64m();
    assertEquals(0, new PageIsolation(a).startIsolatePageRange(0, 4096, 4608,
        PageIsolation.Mode.OTHER));
    List<String> lines = Captures.lines(PageTypeInfo.render(a));
    assertTrue(lines.contains("Node    0, zone    DMA32, type      Movable      0      0      0"
        + "      0      0      0      0      0      0      1     11 "), String.join("\n", lines));
    assertTrue(lines.contains("Node    0, zone    DMA32, type      Isolate      0      0      0"
        + "      0      0      0      0      0      0      1      0 "), String.join("\n", lines));
    assertEquals("Node 0, zone    DMA32            0           23            0            0"
        + "            0            1 ", lines.get(lines.size() - 1));
  }

  @Test
  void shouldListTheMigratetypesOfTheKernelConfigWhenCmaIsOnOrOff() {
    assertEquals("Unmovable Movable Reclaimable HighAtomic CMA Isolate", names(true));
    assertEquals("Unmovable Movable Reclaimable HighAtomic Isolate", names(false));
  }

  private static String names(boolean cma) {
    StringBuilder sb = new StringBuilder();
    for (int mt : PageTypeInfo.migratetypes(cma)) {
      sb.append(sb.isEmpty() ? "" : " ").append(MigrateType.name(mt));
    }
    return sb.toString();
  }
}
