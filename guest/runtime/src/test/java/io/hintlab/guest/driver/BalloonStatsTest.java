package io.hintlab.guest.driver;

import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_STATS_VQ;
import static io.hintlab.guest.transport.VirtioBalloon.bit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.Zone;
import io.hintlab.guest.mm.ZoneType;
import io.hintlab.guest.transport.CallDeadlines;
import io.hintlab.guest.transport.DriverWishes;
import io.hintlab.proto.v1.Stat;
import io.hintlab.proto.v1.StatsRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The stats queue: {@code update_balloon_stats()}'s tags in the driver's order with the model's
 * values, sent at start and every interval when STATS_VQ was negotiated, and never otherwise.
 */
class BalloonStatsTest {
  private static final List<Integer> TAGS = List.of(0, 1, 2, 3, 10, 11, 12, 13, 14, 15, 4, 5, 6, 7);

  @Test
  void shouldFillTheTagsInTheDriversOrderWithTheModelsValues() {
    PageAllocator pa = new PageAllocator(MmConfig.forMemory(256L << 20));
    int[] tags = new int[BalloonStats.ENTRIES];
    long[] values = new long[BalloonStats.ENTRIES];

    assertEquals(14, BalloonStats.update(pa, tags, values));

    Map<Integer, Long> v = map(tags, values);
    assertEquals(TAGS, tagList(tags));
    long managed = 0;
    long reserve = 0;
    for (Zone z : pa.zones()) {
      managed += z.managedPages();
      long max = 0;
      for (int j = z.type().ordinal(); j < ZoneType.MAX_NR_ZONES; j++) {
        max = Math.max(max, z.lowmemReserve(j));
      }
      reserve += Math.min(max + z.watermark(Zone.WMARK_HIGH), z.managedPages());
    }
    assertEquals(pa.freePages() * 4096, v.get(BalloonStats.VIRTIO_BALLOON_S_MEMFREE));
    assertEquals(managed * 4096, v.get(BalloonStats.VIRTIO_BALLOON_S_MEMTOT));
    assertEquals((pa.freePages() - reserve) * 4096, v.get(BalloonStats.VIRTIO_BALLOON_S_AVAIL));
    assertTrue(reserve > 0, "high watermarks are reserved");
    for (int tag : List.of(0, 1, 2, 3, 7, 10, 12, 13, 14, 15)) {
      assertEquals(0, v.get(tag), "tag " + tag + ": the model has nothing of it");
    }
    assertEquals(0, v.get(BalloonStats.VIRTIO_BALLOON_S_ALLOC_STALL));
  }

  @Test
  void shouldCountAllocationStallsAndNeverReportNegativeAvailableMemory() {
    PageAllocator pa = new PageAllocator(MmConfig.forMemory(64L << 20));
    while (pa.allocPages(0, 0, Gfp.GFP_KERNEL | Gfp.__GFP_NORETRY) >= 0) {
      // down to the min watermark: free pages are below the reserve now
    }
    int[] tags = new int[BalloonStats.ENTRIES];
    long[] values = new long[BalloonStats.ENTRIES];
    BalloonStats.update(pa, tags, values);
    Map<Integer, Long> v = map(tags, values);
    assertTrue(pa.allocStalls() > 0, "the last allocation went through direct reclaim");
    assertEquals(pa.allocStalls(), v.get(BalloonStats.VIRTIO_BALLOON_S_ALLOC_STALL));
    assertEquals(0, v.get(BalloonStats.VIRTIO_BALLOON_S_AVAIL), "si_mem_available() >= 0");
  }

  @Test
  void shouldRejectABufferTooSmallForTheTags() {
    PageAllocator pa = new PageAllocator(MmConfig.forMemory(64L << 20));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BalloonStats.update(pa, new int[13], new long[14]));
    assertEquals("the stats buffer needs 14 entries", e.getMessage());
  }

  @Test
  void shouldSendStatsAtStartAndEveryIntervalWhenStatsVqWasNegotiated() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      BalloonDriver d = f.start(DriverOptions.defaults().withStatsInterval(Duration.ofMillis(20)));
      assertTrue(f.await(() -> f.fake.stats.size() >= 3), "stats sent: " + d.metrics());
      StatsRequest last = f.fake.stats.get(f.fake.stats.size() - 1);
      List<Integer> tags = new ArrayList<>();
      for (Stat s : last.getStatsList()) {
        tags.add(s.getTag());
      }
      assertEquals(TAGS, tags);
      assertEquals(BalloonStats.totalramPages(f.pa) * 4096, last.getStats(11).getValue(),
          "MEMTOT");
      d.stop();
      assertTrue(d.metrics().statsSent() >= 3);
      assertEquals(d.metrics().statsSent(), f.fake.stats.size());
      assertFalse(threadAlive(StatsTimer.THREAD_NAME), "the stats thread was joined");
    }
  }

  @Test
  void shouldCountAFailedStatsBufferAndGoOn() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      f.fake.failNext(FakeDevice.Rpc.STATS, Status.Code.UNAVAILABLE);
      BalloonDriver d = f.start(DriverOptions.defaults().withStatsInterval(Duration.ofMillis(20)));
      assertTrue(f.await(() -> f.fake.stats.size() >= 1), "stats sent: " + d.metrics());
      d.stop();
      assertEquals(1, d.metrics().failures());
      assertEquals(f.fake.stats.size(), d.metrics().statsSent());
    }
  }

  @Test
  void shouldSendNoStatsWhenStatsVqWasNotNegotiated() throws Exception {
    long offered = FakeDevice.ALL_FEATURES & ~bit(VIRTIO_BALLOON_F_STATS_VQ);
    try (DriverFixture f = new DriverFixture(64L << 20, offered, DriverWishes.linuxDefaults(),
        CallDeadlines.uniform(Duration.ofSeconds(2)))) {
      BalloonDriver d = f.start(DriverOptions.defaults().withStatsInterval(Duration.ofMillis(1)));
      f.fake.setTarget(10);
      assertTrue(f.awaitSettled(10));
      assertFalse(threadAlive(StatsTimer.THREAD_NAME), "no stats thread");
      d.stop();
      assertEquals(List.of(), f.fake.stats);
      assertEquals(0, d.metrics().statsSent());
    }
  }

  private static boolean threadAlive(String name) {
    return Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.getName().equals(name) && t.isAlive());
  }

  private static Map<Integer, Long> map(int[] tags, long[] values) {
    Map<Integer, Long> m = new HashMap<>();
    for (int i = 0; i < tags.length; i++) {
      m.put(tags[i], values[i]);
    }
    return m;
  }

  private static List<Integer> tagList(int[] tags) {
    List<Integer> l = new ArrayList<>();
    for (int t : tags) {
      l.add(t);
    }
    return l;
  }
}
