package io.hintlab.guest.mm.view;

import static io.hintlab.guest.mm.view.KernelFormats.ZoneinfoVersion.V6_1;
import static io.hintlab.guest.mm.view.KernelFormats.ZoneinfoVersion.V6_17;
import static io.hintlab.guest.mm.view.KernelFormats.statName;
import static io.hintlab.guest.mm.view.KernelFormats.zoneinfoLine;
import static io.hintlab.guest.mm.view.KernelFormats.zoneinfoSkeleton;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.Zone;
import io.hintlab.guest.mm.view.KernelFormats.ZiKind;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link ZoneInfo} mirrors zoneinfo_show_print() (mm/vmstat.c, v6.17). */
class ZoneInfoTest {

  @Test
  void shouldAcceptEveryLineOfTheRealCaptureWhenCheckingTheV61Shape() {
    // Guards the shape checker itself: the real kernel's lines must pass it.
    for (String line : Captures.file("zoneinfo")) {
      assertEquals(line, zoneinfoLine(line, V6_1).reprint());
    }
  }

  @Test
  void shouldPrintEveryLineInTheV617LayoutWhenTheGuestIsFragmented() {
    PageAllocator a = Guests.fragmentOrder0(
        new PageAllocator(MmConfig.builder().memory(256L << 20).nrCpus(2).build()));
    for (String line : Captures.lines(ZoneInfo.render(a))) {
      assertEquals(line, zoneinfoLine(line, V6_17).reprint());
    }
  }

  @Test
  void shouldHaveTheCapturesStructureWhenTheV617AdditionsAreSetAside() {
    // 1 GiB, one cpu: DMA and DMA32 populated, Normal, Movable and Device not, as in the capture.
    // v6.17 adds "promo" and the pcp high_min/high_max lines; counter lines are compared apart.
    List<ZiKind> capture = zoneinfoSkeleton(Captures.file("zoneinfo"), V6_1);
    List<ZiKind> model = new ArrayList<>(zoneinfoSkeleton(
        Captures.lines(ZoneInfo.render(Guests.boot1gLikeCapture())), V6_17));
    model.removeIf(k -> k == ZiKind.PROMO || k == ZiKind.PCP_HIGH_MIN
        || k == ZiKind.PCP_HIGH_MAX);
    assertEquals(capture, model);
  }

  @Test
  void shouldPrintZoneCountersInTheKernelsOrderWhenThe61CaptureHasThem() {
    List<String> captureNames =
        zoneStatNames(Captures.file("zoneinfo"), "Node 0, zone    DMA32", V6_1);
    List<String> modelNames = zoneStatNames(
        Captures.lines(ZoneInfo.render(Guests.boot1gLikeCapture())), "Node 0, zone    DMA32",
        V6_17);
    // nr_free_pages_blocks is v6.15+ and sits right after nr_free_pages (enum zone_stat_item)
    assertEquals(List.of("nr_free_pages", "nr_free_pages_blocks", "nr_free_cma"), modelNames);
    List<String> known = new ArrayList<>(modelNames);
    known.remove("nr_free_pages_blocks");
    assertEquals(known, captureNames.stream().filter(known::contains).toList());
  }

  @Test
  void shouldPrintUnpopulatedZonesWithoutCountersOrPagesetsExactly() {
    String unpopulated = ""
        + "  pages free     0\n"
        + "        boost    0\n"
        + "        min      0\n"
        + "        low      0\n"
        + "        high     0\n"
        + "        promo    0\n"
        + "        spanned  0\n"
        + "        present  0\n"
        + "        managed  0\n"
        + "        cma      0\n"
        + "        protection: (0, 0, 0, 0, 0)\n";
    String text = ZoneInfo.render(Guests.boot64m());
    assertTrue(text.endsWith(""
        + "Node 0, zone   Normal\n" + unpopulated
        + "Node 0, zone  Movable\n" + unpopulated
        + "Node 0, zone   Device\n" + unpopulated), text);
  }

  @Test
  void shouldPrintTheDmaZoneOfA64MibGuestWithHandComputedSizesAndPagesets() {
    // DMA [1, 4096): 4095 pages, all free at boot, 3584 of them in blocks of order >= 9
    // (order 9 at 512, order 10 at 1024, 2048, 3072). protection[DMA32..] = DMA32's 12288
    // managed pages / sysctl_lowmem_reserve_ratio[DMA] 256 = 48. zone_batchsize(): 4095 >> 10 = 3,
    // / 4 = 0 -> 1, rounddown_pow_of_two(1) - 1 = 0, then max(1, 0) = 1. The stat threshold is
    // 2 * fls(1 cpu) * (1 + fls(4095 >> 15 = 0)) = 2.
    PageAllocator a = Guests.boot64m();
    Zone dma = a.zones().get(0);
    String text = ZoneInfo.render(a);
    String head = "Node 0, zone      DMA\n"
        + "  per-node stats\n"
        + "  pages free     4095\n"
        + "        boost    0\n";
    String sizes = "        spanned  4095\n"
        + "        present  4095\n"
        + "        managed  4095\n"
        + "        cma      0\n"
        + "        protection: (0, 48, 48, 48, 48)\n"
        + "      nr_free_pages 4095\n"
        + "      nr_free_pages_blocks 3584\n"
        + "      nr_free_cma  0\n"
        + "  pagesets\n"
        + "    cpu: 0\n"
        + "              count:    0\n"
        + "              high:     " + dma.pcp(0).high() + "\n"
        + "              batch:    1\n"
        + "              high_min: " + dma.pcp(0).highMin() + "\n"
        + "              high_max: " + dma.pcp(0).highMax() + "\n"
        + "  vm stats threshold: 2\n"
        + "  node_unreclaimable:  0\n"
        + "  start_pfn:           1\n"
        + "Node 0, zone    DMA32\n";
    assertTrue(text.startsWith(head), text);
    assertTrue(text.contains(sizes), text);
  }

  @Test
  void shouldPrintWatermarksIncludingTheBoostWhenAFallbackBoostedThem() {
    // min_wmark_pages() etc. are _watermark[] + watermark_boost. With min_free_kbytes 128 the
    // 64 MiB guest's DMA32 has min 32 * 12288 / 16383 = 24, then steps of
    // max(24 >> 2, 12288 * 10 / 10000) = 12: low 36, high 48, promo 60. An unmovable allocation
    // that must fall back to a Movable order-0 block (memory is fragmented into lone pages)
    // boosts by one pageblock: max(512, 48 * 15000 / 10000) caps it at 512.
    PageAllocator a = Guests.fragmentOrder0(
        new PageAllocator(MmConfig.builder().memory(64L << 20).minFreeKbytes(128).build()),
        Gfp.GFP_HIGHUSER_MOVABLE);
    Zone dma32 = a.zones().get(1);
    assertEquals(0, dma32.watermarkBoost(), "precondition");
    a.allocPages(0, 0, Gfp.GFP_KERNEL);
    assertEquals(512, dma32.watermarkBoost(), "precondition: boost_watermark() ran");
    String text = ZoneInfo.render(a);
    String dma32Block = text.substring(text.indexOf("Node 0, zone    DMA32\n"));
    assertTrue(dma32Block.contains(""
        + "        boost    512\n"
        + "        min      536\n"
        + "        low      548\n"
        + "        high     560\n"
        + "        promo    572\n"), dma32Block);
  }

  @Test
  void shouldPrintOnePagesetPerCpuWhenTheGuestHasSeveral() {
    PageAllocator a = new PageAllocator(MmConfig.builder().memory(64L << 20).nrCpus(3).build());
    List<String> lines = Captures.lines(ZoneInfo.render(a));
    assertEquals(List.of("    cpu: 0", "    cpu: 1", "    cpu: 2", "    cpu: 0", "    cpu: 1",
        "    cpu: 2"), lines.stream().filter(l -> l.startsWith("    cpu: ")).toList());
    // 2 * fls(3) * (1 + fls(0)) = 4 for both zones, once per cpu
    assertEquals(6, lines.stream().filter(l -> l.equals("  vm stats threshold: 4")).count());
  }

  @Test
  void shouldComputeCalculateNormalThresholdLikeTheKernelsTable() {
    // The capture's own thresholds: DMA 3840 managed -> 2, DMA32 241590 -> 8 (one cpu).
    assertEquals(2, ZoneInfo.statThreshold(3840, 1, 12));
    assertEquals(8, ZoneInfo.statThreshold(241590, 1, 12));
    // Rows of the table in calculate_normal_threshold()'s comment. Its "30, 4 cpus, 2-4 GB" row
    // holds for 1-2 GB; the formula gives 36 at 2-4 GB.
    assertEquals(16, ZoneInfo.statThreshold(250_000, 2, 12)); // 2 cpus, 0.9-1 GB
    assertEquals(24, ZoneInfo.statThreshold(800_000, 2, 12)); // 2 cpus, 2-4 GB
    assertEquals(30, ZoneInfo.statThreshold(400_000, 4, 12)); // 4 cpus, 1-2 GB
    assertEquals(36, ZoneInfo.statThreshold(800_000, 4, 12)); // 4 cpus, 2-4 GB
    assertEquals(4, ZoneInfo.statThreshold(20_000, 2, 12)); // 2 cpus, < 128 MB
    assertEquals(125, ZoneInfo.statThreshold(4_000_000, 1024, 12)); // capped
  }

  private static List<String> zoneStatNames(List<String> lines, String zoneHeader,
      KernelFormats.ZoneinfoVersion version) {
    int start = lines.indexOf(zoneHeader);
    List<String> names = new ArrayList<>();
    for (String line : lines.subList(start + 1, lines.size())) {
      if (line.startsWith("Node ") || line.equals("  pagesets")) {
        break;
      }
      if (zoneinfoLine(line, version).kind() == ZiKind.STAT) {
        names.add(statName(line));
      }
    }
    return names;
  }
}
