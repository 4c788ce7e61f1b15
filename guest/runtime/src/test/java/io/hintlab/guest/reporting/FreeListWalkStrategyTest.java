package io.hintlab.guest.reporting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.MemMap;
import io.hintlab.guest.mm.MigrateType;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.PageIsolation;
import io.hintlab.guest.mm.Zone;
import io.hintlab.guest.mm.ZoneSpec;
import io.hintlab.guest.mm.ZoneType;
import io.hintlab.guest.reporting.ReportingOptions.Cursor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code free-list-walk}: the report_unused_page_block() iterator (Wei Wang, v12, 2017). The
 * original cursor is shown re-offering the list head forever under the churn Michael S. Tsirkin
 * described ("get 1st block, get 2nd block, 2nd gets broken up, get 1st block again"); the
 * progressing cursor is shown to offer every block that stays on its list for the whole walk
 * exactly once, no block twice, and to end. Virtual time; the invariant checker after every step.
 */
class FreeListWalkStrategyTest {
  private static final int MOVABLE = Gfp.GFP_HIGHUSER_MOVABLE;
  private static final int[] GFPS = {
    Gfp.GFP_HIGHUSER_MOVABLE, Gfp.GFP_KERNEL, Gfp.GFP_KERNEL_RECLAIMABLE, Gfp.GFP_ATOMIC
  };

  /** A free block on a list: head pfn, order, the list's migratetype. */
  record Key(int pfn, int order, int mt) {}

  /** An allocator with free-list-walk on a virtual clock and a {@link CheckingSink}. */
  private static final class Walk {
    final PageAllocator a;
    final ReportingOptions o;
    final ManualWorkScheduler clock = new ManualWorkScheduler();
    final FreeListWalkStrategy strategy;
    final CheckingSink sink;
    final ReportingAgent agent;

    Walk(MmConfig cfg, ReportingOptions o) {
      this.a = new PageAllocator(cfg);
      this.o = o;
      this.strategy = new FreeListWalkStrategy(a, o);
      this.sink = new CheckingSink(a, o.capacity());
      this.agent = new ReportingAgent(strategy, sink, o.delay(), clock);
    }

    ReportingMetrics.Snapshot pass() {
      ReportingMetrics.Snapshot before = agent.metrics().snapshot();
      clock.advance(o.delay());
      ReportingMetrics.Snapshot d = agent.metrics().snapshot().minus(before);
      assertEquals(1, d.passes(), "passes run in one delay");
      InvariantChecker.check(a);
      return d;
    }

    /** Every block on a non-ISOLATE list of order &gt;= minOrder. */
    Set<Key> freeBlocks(int minOrder) {
      Set<Key> out = new HashSet<>();
      for (Zone z : a.zones()) {
        z.lock.lock();
        try {
          for (int ord = minOrder; ord <= a.geometry().maxPageOrder(); ord++) {
            for (int mt = 0; mt < MigrateType.TYPES; mt++) {
              if (mt == MigrateType.ISOLATE) {
                continue;
              }
              for (int p = z.freeListFirst(ord, mt); p != MemMap.NIL; p = z.freeListNext(p)) {
                out.add(new Key(p, ord, mt));
              }
            }
          }
        } finally {
          z.lock.unlock();
        }
      }
      return out;
    }
  }

  /** One DMA32 zone of {@code blocks} order-10 blocks from pfn 4096, pcp off. */
  private static MmConfig dma32Only(int blocks) {
    return MmConfig.builder()
        .zone(new ZoneSpec(ZoneType.DMA32, 4096, blocks * 1024, 0))
        .pcp(false)
        .build();
  }

  private static ReportingOptions order10(Cursor c) {
    return ReportingOptions.defaults().withOrder(10).withCapacity(1).withCursor(c);
  }

  private static List<Integer> pfns(List<CheckingSink.Block> blocks) {
    List<Integer> out = new ArrayList<>();
    blocks.forEach(b -> out.add(b.pfn()));
    return out;
  }

  private static void check(PageAllocator a, String where) {
    List<String> v = InvariantChecker.violations(a);
    if (!v.isEmpty()) {
      fail(where + ": " + String.join("; ", v));
    }
  }

  /**
   * The churn of Tsirkin's review as an isolation user (alloc_contig_range() probing one pageblock
   * at a time): when the walk offers a block that is not the list head, the previous probe is
   * undone (its block merges back at the list tail, __putback_isolated_page()) and the upper
   * pageblock of the offered block is isolated, which splits it (split_large_buddy()), so the
   * cursor is a free block of order 9 when the next step looks at it.
   */
  private static void probeEveryOfferedBlockButTheHead(Walk w) {
    PageIsolation iso = new PageIsolation(w.a);
    Zone z = w.a.zone(ZoneType.DMA32);
    int[] probed = {MemMap.NIL};
    w.sink.during(
        batch -> {
          check(w.a, "before the probe");
          int x = batch.get(0).pfn();
          if (x == z.freeListFirst(10, MigrateType.MOVABLE)) {
            return;
          }
          if (probed[0] != MemMap.NIL) {
            iso.undoIsolatePageRange(probed[0], probed[0] + 512);
          }
          assertEquals(
              0, iso.startIsolatePageRange(0, x + 512, x + 1024, PageIsolation.Mode.OTHER));
          probed[0] = x + 512;
          check(w.a, "after probing " + x);
        });
    w.agent.start();
  }

  @Test
  void shouldReofferTheListHeadForeverWithTheOriginalCursor() {
    Walk w = new Walk(dma32Only(8), order10(Cursor.ORIGINAL));
    long bootFree = w.a.freePages();
    probeEveryOfferedBlockButTheHead(w);
    ReportingMetrics.Snapshot d = w.pass();
    List<Integer> offered = pfns(w.sink.offered());
    // get 1st block, get 2nd block, 2nd gets broken up, get 1st block again ... forever: the
    // probed blocks merge back at the tail, so the list keeps offering a new 2nd block
    assertEquals(List.of(4096, 5120, 4096, 6144, 4096, 7168, 4096, 8192), offered.subList(0, 8));
    int limit = FreeListWalkStrategy.STEP_LIMIT_FACTOR * 8;
    assertEquals(limit, offered.size(), "the walk only ends at the step limit");
    assertEquals(1, d.walkStepLimits());
    assertEquals(limit / 2, Collections.frequency(offered, 4096), "the head every other step");
    for (int pfn = 5120; pfn < 12288; pfn += 1024) {
      assertTrue(
          Collections.frequency(offered, pfn) >= 2, pfn + " offered again: " + offered);
    }
    assertEquals(limit - 8, d.reoffers(), "8 distinct blocks in " + limit + " offers");
    assertEquals(limit / 2 - 1, d.walkRestarts());
    assertEquals(bootFree, w.a.freePages() + 512, "one pageblock is still probed (isolated)");
  }

  @Test
  void shouldOfferEveryBlockOnceUnderTheSameChurnWithTheProgressingCursor() {
    Walk w = new Walk(dma32Only(8), order10(Cursor.PROGRESS));
    probeEveryOfferedBlockButTheHead(w);
    ReportingMetrics.Snapshot d = w.pass();
    assertEquals(
        List.of(4096, 5120, 6144, 7168, 8192, 9216, 10240, 11264), pfns(w.sink.offered()));
    assertEquals(0, d.walkStepLimits());
    assertEquals(0, d.reoffers());
    assertEquals(0, d.walkRestarts());
    assertEquals(8, d.reportedBlocks());
  }

  @ParameterizedTest(name = "cursor {0}")
  @ValueSource(strings = {"ORIGINAL", "PROGRESS"})
  void shouldOfferEveryFreeBlockOnceAndTakeNothingOnAQuietSystem(String cursor) {
    Walk w =
        new Walk(
            MmConfig.builder().memory(64L << 20).pcp(false).build(),
            ReportingOptions.defaults().withOrder(3).withCapacity(8)
                .withCursor(Cursor.valueOf(cursor)));
    SplittableRandom r = new SplittableRandom(7);
    for (int i = 0; i < 400; i++) {
      int pfn = w.a.allocPages(0, r.nextInt(6), GFPS[r.nextInt(GFPS.length)]);
      if (pfn >= 0 && r.nextBoolean()) {
        w.a.freePages(0, pfn, w.a.memMap().order(pfn));
      }
    }
    Set<Key> before = w.freeBlocks(3);
    long free = w.a.freePages();
    w.sink.check(
        batch -> {
          for (CheckingSink.Block b : batch) {
            // hinted in place: still PageBuddy on its list while the host is told
            assertTrue(w.a.memMap().isBuddy(b.pfn()), b + " is not on a free list");
            assertEquals(b.order(), w.a.memMap().order(b.pfn()), b.toString());
          }
        });
    w.agent.start();
    ReportingMetrics.Snapshot d = w.pass();
    List<CheckingSink.Block> offered = w.sink.offered();
    Set<Key> keys = new HashSet<>();
    for (CheckingSink.Block b : offered) {
      keys.add(new Key(b.pfn(), b.order(), w.a.memMap().aux(b.pfn())));
    }
    assertEquals(before.size(), offered.size(), "no block twice");
    assertEquals(before, keys);
    assertEquals(before, w.freeBlocks(3), "the lists are untouched");
    assertEquals(free, w.a.freePages());
    for (Key k : before) {
      assertFalse(w.a.memMap().isReported(k.pfn()), "hints never set PageReported: " + k);
    }
    assertEquals(0, d.reoffers() + d.walkRestarts() + d.walkStepLimits());
  }

  @ParameterizedTest(name = "runtime exception {0}")
  @ValueSource(booleans = {false, true})
  void shouldLoseNothingWhenTheHostFails(boolean runtime) {
    Walk w = new Walk(dma32Only(8), order10(Cursor.PROGRESS));
    int held = w.a.allocPages(0, 9, MOVABLE);
    Set<Key> before = w.freeBlocks(0);
    long free = w.a.freePages();
    w.sink.failCalls(0, 1, runtime);
    w.agent.start();
    ReportingMetrics.Snapshot d = w.pass();
    assertEquals(1, d.failedBatches());
    assertEquals(0, d.batches());
    assertEquals(1, w.sink.attempts().size(), "a failed hint ends the pass");
    assertEquals(before, w.freeBlocks(0));
    assertEquals(free, w.a.freePages());
    // the next pass hints everything
    w.a.freePages(0, held, 9);
    d = w.pass();
    assertEquals(8, d.reportedBlocks());
    assertEquals(8L << 10, d.reportedPages());
    assertEquals(0, d.failedBatches());
  }

  @Test
  void shouldWalkAfterTheDelayWhenAFreeReachesTheOrder() {
    Walk w = new Walk(dma32Only(2), order10(Cursor.PROGRESS));
    w.agent.start();
    w.pass(); // the registration pass
    int small = w.a.allocPages(0, 0, MOVABLE);
    w.a.freePages(0, small, 0); // merges back to order 10: requests a pass
    assertEquals(ReportingAgent.State.REQUESTED, w.agent.state());
    w.clock.advance(w.o.delay().minusNanos(1));
    assertEquals(1, w.agent.metrics().passes(), "not before the delay");
    w.clock.advance(java.time.Duration.ofNanos(1));
    assertEquals(2, w.agent.metrics().passes());
    int big = w.a.allocPages(0, 10, MOVABLE);
    int first = w.a.allocPages(0, 0, MOVABLE);
    int second = w.a.allocPages(0, 0, MOVABLE);
    assertEquals(first + 1, second);
    w.a.freePages(0, second, 0); // its buddy is in use: an order-0 block, below the order
    assertEquals(ReportingAgent.State.IDLE, w.agent.state());
    w.a.freePages(0, first, 0); // merges up to order 10 again
    assertEquals(ReportingAgent.State.REQUESTED, w.agent.state());
    w.pass();
    assertEquals(ReportingAgent.State.IDLE, w.agent.state());
    w.a.freePages(0, big, 10);
    assertEquals(ReportingAgent.State.REQUESTED, w.agent.state());
    w.agent.close();
    check(w.a, "after close");
  }

  /**
   * Seeded churn inside every hint call (the lists change between steps, as the iterator allows).
   * For both cursors: the invariants after every change, each offered block on its list when the
   * step offered it, and the pass ends. For the progressing cursor also: no block twice in a
   * pass, every block on the lists for the whole pass offered exactly once, no step limit.
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
  void shouldKeepTheCursorsHonestUnderRandomChurn(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    Cursor cursor = r.nextBoolean() ? Cursor.ORIGINAL : Cursor.PROGRESS;
    boolean pcp = r.nextBoolean();
    int order = new int[] {3, 5, 9}[r.nextInt(3)];
    int capacity = new int[] {1, 2, 4}[r.nextInt(3)];
    String where =
        "seed " + seed + " (" + cursor + ", pcp " + pcp + ", order " + order + ", capacity "
            + capacity + ")";
    Walk w =
        new Walk(
            MmConfig.builder().memory(32L << 20).pcp(pcp).build(),
            ReportingOptions.defaults().withOrder(order).withCapacity(capacity)
                .withCursor(cursor));
    List<int[]> held = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      churn(w.a, r, held);
    }
    w.agent.start();
    for (int pass = 0; pass < 4; pass++) {
      String at = where + " pass " + pass;
      Set<Key> persistent = w.freeBlocks(order);
      Map<Key, Integer> offered = new HashMap<>();
      SplittableRandom cr = new SplittableRandom(r.nextLong());
      int attemptsBefore = w.sink.attempts().size();
      w.sink.check(
          batch -> {
            for (CheckingSink.Block b : batch) {
              MemMap mm = w.a.memMap();
              assertTrue(
                  mm.isBuddy(b.pfn()) && mm.order(b.pfn()) == b.order(),
                  at + ": " + b + " was not a free block when offered");
              offered.merge(new Key(b.pfn(), b.order(), mm.aux(b.pfn())), 1, Integer::sum);
            }
          });
      w.sink.during(
          batch -> {
            int ops = 1 + cr.nextInt(3);
            for (int i = 0; i < ops; i++) {
              churn(w.a, cr, held);
              check(w.a, at + " churn inside report()");
            }
            persistent.retainAll(w.freeBlocks(order));
          });
      w.sink.failCalls(Integer.MAX_VALUE, Integer.MAX_VALUE, false);
      w.agent.request();
      ReportingMetrics.Snapshot d = w.pass();
      check(w.a, at);
      assertTrue(w.sink.attempts().size() >= attemptsBefore, at);
      if (cursor == Cursor.PROGRESS) {
        assertEquals(0, d.walkStepLimits(), at);
        assertEquals(0, d.reoffers(), at);
        for (Map.Entry<Key, Integer> e : offered.entrySet()) {
          assertEquals(1, e.getValue(), at + ": " + e.getKey() + " offered twice");
        }
        for (Key k : persistent) {
          assertTrue(offered.containsKey(k), at + ": " + k + " stayed free but was not offered");
        }
      }
    }
    w.sink.during(null);
    while (!held.isEmpty()) {
      int[] b = held.remove(held.size() - 1);
      w.a.freePages(0, b[0], b[1]);
    }
    check(w.a, where + " at the end");
    assertEquals(0, w.agent.metrics().passErrors(), where);
  }

  private static void churn(PageAllocator a, SplittableRandom r, List<int[]> held) {
    if (held.isEmpty() || r.nextInt(100) < 55) {
      int p = r.nextInt(100);
      int ord = p < 40 ? r.nextInt(3) : p < 80 ? 3 + r.nextInt(6) : 9 + r.nextInt(2);
      int pfn = a.allocPages(0, ord, GFPS[r.nextInt(GFPS.length)]);
      if (pfn >= 0) {
        held.add(new int[] {pfn, ord});
      }
    } else {
      int i = r.nextInt(held.size());
      int[] b = held.get(i);
      held.set(i, held.get(held.size() - 1));
      held.remove(held.size() - 1);
      a.freePages(0, b[0], b[1]);
    }
  }
}
