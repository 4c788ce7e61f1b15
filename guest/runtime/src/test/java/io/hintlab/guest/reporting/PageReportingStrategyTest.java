package io.hintlab.guest.reporting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import io.hintlab.guest.reporting.RecordingSink.Block;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code page-reporting} against a real allocator, each test naming the mm/page_reporting.c
 * function whose behaviour it pins. Passes run on a virtual clock, so no test waits 2 s.
 */
class PageReportingStrategyTest {
  private static final long MIB = 1L << 20;
  private static final int MOVABLE = Gfp.GFP_HIGHUSER_MOVABLE;

  private static MmConfig guest(long mib) {
    return MmConfig.forMemory(mib * MIB);
  }

  private static MmConfig guestWithoutPcp(long mib) {
    return MmConfig.builder().memory(mib * MIB).pcp(false).build();
  }

  /**
   * One DMA32 zone of {@code blocks} order-10 blocks from pfn 4096 and nothing else, so that a
   * pass's reports can be counted exactly.
   */
  private static MmConfig dma32Only(int blocks, boolean pcp) {
    return MmConfig.builder()
        .zone(new ZoneSpec(ZoneType.DMA32, 4096, blocks * 1024, 0))
        .pcp(pcp)
        .build();
  }

  private static Zone dma32(ReportingFixture f) {
    return f.allocator.zone(ZoneType.DMA32);
  }

  /** A pfn-ordered block list for stable comparisons. */
  private static List<Block> sorted(Iterable<Block> blocks) {
    List<Block> out = new ArrayList<>();
    blocks.forEach(out::add);
    out.sort((x, y) -> Integer.compare(x.pfn(), y.pfn()));
    return out;
  }

  /**
   * A workload that leaves high-order blocks free: seeded allocations of orders 0-3 and 9 of the
   * three mobility types until about 70% of memory is used, then 70% of them freed and the pcp
   * lists drained, so merged order-9 and order-10 blocks come back to the free lists.
   */
  private static List<int[]> churn(PageAllocator a, long seed) {
    Random r = new Random(seed);
    int[] gfps = {MOVABLE, Gfp.GFP_KERNEL, Gfp.GFP_KERNEL_RECLAIMABLE};
    int[] orders = {0, 0, 1, 2, 3, 9};
    List<int[]> held = new ArrayList<>();
    long target = a.freePages() * 3 / 10;
    while (a.freePages() > target) {
      int order = orders[r.nextInt(orders.length)];
      int pfn = a.allocPages(0, order, gfps[r.nextInt(gfps.length)]);
      if (pfn >= 0) {
        held.add(new int[] {pfn, order});
      }
    }
    List<int[]> kept = new ArrayList<>();
    for (int[] b : held) {
      if (r.nextInt(10) < 7) {
        a.freePages(0, b[0], b[1]);
      } else {
        kept.add(b);
      }
    }
    for (Zone z : a.zones()) {
      a.drainAllPages(z);
    }
    InvariantChecker.check(a);
    return kept;
  }

  /** Runs passes until the agent stays idle; returns how many ran. */
  private static int passUntilIdle(ReportingFixture f, int max) {
    int passes = 0;
    while (f.clock.pending() > 0) {
      f.pass();
      passes++;
      assertTrue(passes <= max, "still requesting after " + max + " passes");
    }
    assertEquals(ReportingAgent.State.IDLE, f.agent.state());
    return passes;
  }

  // ---------------------------------------------------------------- a whole pass

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3})
  void shouldReportEveryEligibleBlockOnceInBatchesOfAtMostTheCapacity(long seed) {
    // page_reporting_process_zone() + page_reporting_cycle(): every unreported block of order
    // >= page_reporting_order on a non-isolate list of a zone above the gate, each once
    ReportingFixture f = ReportingFixture.boot(guest(256), ReportingOptions.defaults());
    churn(f.allocator, seed);
    f.start();
    Zone dma = f.allocator.zone(ZoneType.DMA);
    assertFalse(f.aboveGate(dma), "16 MiB DMA is below low + 32 << 9");
    assertTrue(f.aboveGate(dma32(f)), "seed " + seed);
    List<Block> eligible = sorted(f.freeBlocks(dma32(f), 9));
    long free = f.allocator.freePages();
    assertTrue(eligible.size() > 32, "seed " + seed + ": " + eligible.size() + " blocks");

    int passes = passUntilIdle(f, 10);

    List<Block> reported = f.sink.blocks();
    assertEquals(eligible, sorted(reported), "seed " + seed + ": each eligible block once");
    assertEquals(eligible.size(), new HashSet<>(reported).size(), "seed " + seed);
    for (List<Block> batch : f.sink.batches()) {
      assertTrue(batch.size() <= 32, "seed " + seed + ": batch of " + batch.size());
    }
    assertEquals(Set.copyOf(eligible), f.reportedBlocks(), "seed " + seed + ": flags");
    assertEquals(free, f.allocator.freePages(), "seed " + seed + ": nothing lost");
    ReportingMetrics m = f.agent.metrics();
    assertEquals(passes, m.passes());
    assertEquals(f.sink.batches().size(), m.batches());
    assertEquals(eligible.size(), m.reportedBlocks());
    long pages = eligible.stream().mapToLong(b -> 1L << b.order()).sum();
    assertEquals(pages, m.reportedPages());
    assertEquals(pages * 4096, m.reportedBytes());
    assertEquals(0, m.failedBatches() + m.watermarkRefusals());
    assertEquals(passes, m.zonesBelowGate(), "DMA is skipped in every pass");
  }

  @Test
  void shouldSkipReportedBlocksInTheNextPass() {
    // page_reporting_cycle(): if (PageReported(page)) continue;
    ReportingFixture f = ReportingFixture.boot(guest(256), ReportingOptions.defaults());
    churn(f.allocator, 7);
    f.start();
    passUntilIdle(f, 10);
    int calls = f.sink.calls();
    Set<Block> flagged = f.reportedBlocks();
    ReportingMetrics.Snapshot d = f.requestAndPass();
    assertEquals(calls, f.sink.calls(), "nothing left to report");
    assertEquals(0, d.batches());
    assertEquals(flagged, f.reportedBlocks());
    assertEquals(ReportingAgent.State.IDLE, f.agent.state());
    assertEquals(0, f.clock.pending(), "putting blocks back does not request a pass");
  }

  @ParameterizedTest(name = "order {0}")
  @ValueSource(ints = {5, 9, 10})
  void shouldReportOnlyBlocksOfTheReportingOrderAndAbove(int order) {
    // page_reporting_process_zone(): for (order = page_reporting_order; order < NR_PAGE_ORDERS; ..)
    ReportingFixture f =
        ReportingFixture.boot(dma32Only(60, true), ReportingOptions.defaults().withOrder(order));
    churn(f.allocator, 11);
    f.start();
    List<Block> eligible = sorted(f.freeBlocks(order));
    assertTrue(f.freeBlocks(0).size() > eligible.size(), "smaller blocks too");
    passUntilIdle(f, 20);
    assertTrue(f.sink.blocks().stream().allMatch(b -> b.order() >= order));
    assertEquals(eligible, sorted(f.sink.blocks()));
    assertEquals(Set.copyOf(eligible), f.reportedBlocks());
    assertEquals(0, f.agent.metrics().watermarkRefusals());
  }

  // ---------------------------------------------------------------- the zone gate

  @Test
  void shouldSkipAZoneWhoseFreePagesDoNotExceedLowPlusCapacityBlocks() {
    // page_reporting_process_zone(): watermark = low_wmark_pages(zone) + (CAPACITY << order);
    // if (!zone_watermark_ok(zone, 0, watermark, 0, ALLOC_CMA)) return;
    ReportingFixture f = ReportingFixture.boot(guestWithoutPcp(256), ReportingOptions.defaults());
    Zone z = dma32(f);
    long gate = z.wmarkPages(Zone.WMARK_LOW) + (32L << 9);
    List<Integer> used = new ArrayList<>();
    while (z.freePages() > gate) {
      int pfn = f.allocator.allocPages(0, 0, MOVABLE);
      assertTrue(z.spans(pfn), "order-0 pages come from DMA32 first");
      used.add(pfn);
    }
    assertEquals(gate, z.freePages());
    assertFalse(f.freeBlocks(z, 9).isEmpty(), "blocks to report, were the zone above the gate");
    f.start();
    ReportingMetrics.Snapshot d = f.pass();
    assertEquals(0, f.sink.calls(), "free pages == the gate is not enough");
    assertEquals(2, d.zonesBelowGate(), "DMA and DMA32");
    f.allocator.freePages(0, used.remove(used.size() - 1), 0);
    assertEquals(gate + 1, z.freePages());
    d = f.requestAndPass();
    assertEquals(1, d.zonesBelowGate(), "only DMA now");
    assertTrue(d.batches() > 0);
  }

  // ---------------------------------------------------------------- page_reporting_cycle

  @ParameterizedTest(name = "{0} blocks, capacity {1}, divisor {2}")
  @CsvSource({
    "60, 4, 16", // budget DIV_ROUND_UP(60, 64) = 1: 8 blocks per pass
    "60, 4, 4", // budget DIV_ROUND_UP(60, 16) = 4: 20 per pass
    "60, 8, 1", // budget 8: 72 > 60, one pass
    "1020, 32, 16" // the kernel's numbers on 4 GiB: budget 2, 96 blocks per pass
  })
  void shouldLimitEachListToItsBudgetPlusOneReportCalls(int blocks, int capacity, int divisor) {
    // page_reporting_cycle(): budget = DIV_ROUND_UP(area->nr_free, CAPACITY * 16); a full batch
    // costs one; an unreported block found with budget < 0 sets REQUESTED and leaves the list
    ReportingOptions o =
        ReportingOptions.defaults().withCapacity(capacity).withBudgetDivisor(divisor);
    ReportingFixture f = ReportingFixture.boot(dma32Only(blocks, true), o);
    Zone z = dma32(f);
    assertEquals(blocks, z.nrFree(10));
    assertEquals(blocks, f.freeBlocks(z, 0).size(), "after boot: only order-10 blocks");
    long budget = f.strategy.budget(blocks);
    assertEquals((blocks + capacity * divisor - 1) / (capacity * divisor), budget);
    long perPass = (budget + 1) * capacity;
    f.start();
    int left = blocks;
    int passes = 0;
    while (left > 0) {
      int calls = f.sink.calls();
      ReportingMetrics.Snapshot d = f.pass();
      passes++;
      long want = Math.min(left, perPass);
      assertEquals(want, d.reportedBlocks(), "pass " + passes);
      assertEquals((want + capacity - 1) / capacity, f.sink.calls() - calls, "pass " + passes);
      left -= (int) want;
      boolean exhausted = left > 0;
      assertEquals(exhausted ? 1 : 0, d.budgetExhaustions(), "pass " + passes);
      assertEquals(
          exhausted ? ReportingAgent.State.REQUESTED : ReportingAgent.State.IDLE,
          f.agent.state(),
          "pass " + passes + ": a spent budget asks for another pass");
      assertEquals(blocks, z.nrFree(10), "reported blocks stay on the list");
    }
    assertEquals((blocks + perPass - 1) / perPass, passes);
    assertEquals(0, f.clock.pending());
    assertEquals(blocks, f.reportedBlocks().size());
  }

  @Test
  void shouldRotateTheListSoThatTheNextPassResumesAtTheFirstUnprocessedBlock() {
    // page_reporting_cycle(): list_rotate_to_front() before dropping the lock and on exit;
    // page_reporting_drain(): __putback_isolated_page() to the tail, in scatterlist order (the
    // list is filled from its end, so the last block taken is put back first)
    ReportingOptions o = ReportingOptions.defaults().withCapacity(4).withBudgetDivisor(16);
    ReportingFixture f = ReportingFixture.boot(dma32Only(60, true), o);
    Zone z = dma32(f);
    List<Integer> boot = f.freeList(z, 10, MigrateType.MOVABLE);
    assertEquals(60, boot.size());
    f.start();
    f.pass(); // budget 1: two batches of 4, then the budget is spent at boot[8]
    List<Integer> want = new ArrayList<>(boot.subList(8, 60));
    want.addAll(List.of(boot.get(3), boot.get(2), boot.get(1), boot.get(0)));
    want.addAll(List.of(boot.get(7), boot.get(6), boot.get(5), boot.get(4)));
    assertEquals(want, f.freeList(z, 10, MigrateType.MOVABLE));
    assertEquals(
        List.of(
            List.of(b10(boot, 3), b10(boot, 2), b10(boot, 1), b10(boot, 0)),
            List.of(b10(boot, 7), b10(boot, 6), b10(boot, 5), b10(boot, 4))),
        f.sink.batches());
    f.sink.clear();
    f.pass(); // resumes at boot[8]
    assertEquals(b10(boot, 11), f.sink.batches().get(0).get(0));
  }

  private static Block b10(List<Integer> list, int i) {
    return new Block(list.get(i), 10);
  }

  @Test
  void shouldStopAListWhenIsolationIsRefusedOnTheMinWatermark() {
    // page_reporting_cycle(): if (!__isolate_free_page(page, order)) { next = page; break; }
    // __isolate_free_page(): zone_watermark_ok(zone, 0, min_wmark + (1 << order), 0, ALLOC_CMA)
    ReportingOptions o = ReportingOptions.defaults().withCapacity(32).withBudgetDivisor(0);
    ReportingFixture f = ReportingFixture.boot(guestWithoutPcp(256), o);
    Zone z = dma32(f);
    // leave just above the gate: the pass takes blocks until the min watermark stops it
    long gate = z.wmarkPages(Zone.WMARK_LOW) + (32L << 9);
    while (z.freePages() > gate + 2048) {
      f.allocator.allocPages(0, 0, MOVABLE);
    }
    long free = z.freePages();
    long min = z.wmarkPages(Zone.WMARK_MIN);
    f.start();
    ReportingMetrics.Snapshot d = f.pass();
    assertTrue(d.watermarkRefusals() > 0, "free " + free + ", min " + min);
    assertEquals(0, d.failedBatches());
    // a batch of order-10 blocks stops where free would drop to min + 1024
    long takeable = (free - min - 1024 - 1) / 1024 + 1;
    assertTrue(d.reportedBlocks() > 0);
    assertTrue(
        d.reportedPages() <= takeable * 1024 + 32 * 512,
        "reported " + d.reportedPages() + " of " + free);
    assertEquals(free, z.freePages(), "every block went back");
    assertEquals(ReportingAgent.State.IDLE, f.agent.state(), "a refusal requests no rerun");
  }

  // ---------------------------------------------------------------- page_reporting_drain

  @Test
  void shouldReportABlockThatMergedAfterItWasReportedAgainAsANewBlock() {
    // __free_one_page(): the reported buddy leaves its list (flag cleared); the merged block is
    // new, unreported, and its free requests a pass (order 10 >= page_reporting_order)
    ReportingFixture f = ReportingFixture.boot(guestWithoutPcp(256), ReportingOptions.defaults());
    PageAllocator a = f.allocator;
    int lo = a.allocPages(0, 9, MOVABLE);
    int hi = a.allocPages(0, 9, MOVABLE);
    assertEquals(lo ^ 512, hi, "two halves of one order-10 block");
    f.start();
    f.pass();
    a.freePages(0, lo, 9);
    assertEquals(ReportingAgent.State.REQUESTED, f.agent.state(), "an order-9 free");
    f.sink.clear();
    f.pass();
    assertEquals(List.of(new Block(lo, 9)), f.sink.blocks());
    assertTrue(a.memMap().isReported(lo));
    a.freePages(0, hi, 9);
    InvariantChecker.check(a);
    int merged = Math.min(lo, hi);
    assertEquals(10, a.memMap().order(merged));
    assertFalse(a.memMap().isReported(merged), "a merged block is a new block");
    assertFalse(a.memMap().isReported(lo));
    assertEquals(ReportingAgent.State.REQUESTED, f.agent.state());
    f.sink.clear();
    f.pass();
    assertEquals(List.of(new Block(merged, 10)), f.sink.blocks());
    assertTrue(a.memMap().isReported(merged));
  }

  @Test
  void shouldLeaveABlockUnreportedWhenItMergesOnTheWayBack() {
    // page_reporting_drain(): __SetPageReported only if PageBuddy(page) && buddy_order == order;
    // the buddy freed while the zone lock was dropped merges with the block put back
    ReportingFixture f = ReportingFixture.boot(guestWithoutPcp(256), ReportingOptions.defaults());
    PageAllocator a = f.allocator;
    int lo = a.allocPages(0, 9, MOVABLE);
    int hi = a.allocPages(0, 9, MOVABLE);
    f.start();
    f.pass();
    a.freePages(0, lo, 9);
    f.sink.clear();
    f.sink.during(
        () -> {
          // lock dropped: the block is in flight, its buddy can be freed but cannot merge
          InvariantChecker.check(a);
          a.freePages(0, hi, 9);
          assertEquals(MemMap.K_TAKEN, a.memMap().kind(lo));
          assertEquals(9, a.memMap().order(hi));
          assertEquals(ReportingAgent.State.REQUESTED, f.agent.state(), "the free requested");
        });
    ReportingMetrics.Snapshot d = f.pass();
    f.sink.during(null);
    assertEquals(List.of(new Block(lo, 9)), f.sink.blocks(), "the host acknowledged it");
    assertEquals(512, d.reportedPages());
    int merged = Math.min(lo, hi);
    assertEquals(10, a.memMap().order(merged));
    assertFalse(a.memMap().isReported(merged), "merged on the way back: not reported");
    assertEquals(1, f.clock.pending(), "the request made during the pass reruns it");
    f.sink.clear();
    f.pass();
    assertEquals(List.of(new Block(merged, 10)), f.sink.blocks(), "reported at its new order");
  }

  @Test
  void shouldClearTheFlagWhenAReportedBlockIsAllocatedOrSplit() {
    // __del_page_from_free_list(): if (page_reported(page)) __ClearPageReported(page)
    ReportingFixture f = ReportingFixture.boot(guest(256), ReportingOptions.defaults());
    PageAllocator a = f.allocator;
    f.start();
    passUntilIdle(f, 10);
    Set<Block> flagged = f.reportedBlocks();
    int before = flagged.size();
    assertEquals(f.freeBlocks(dma32(f), 9).size(), before, "everything above the gate");
    int big = a.allocPages(0, 10, MOVABLE);
    InvariantChecker.check(a);
    assertTrue(flagged.contains(new Block(big, 10)), "every free order-10 block was reported");
    assertFalse(a.memMap().isReported(big));
    assertEquals(before - 1, f.reportedBlocks().size());
    int small = a.allocPages(0, 2, Gfp.GFP_KERNEL); // splits a reported block
    InvariantChecker.check(a);
    assertFalse(a.memMap().isReported(small));
    Set<Block> now = f.reportedBlocks();
    assertEquals(before - 2, now.size(), "the split block's pieces are new, unreported blocks");
    assertTrue(now.stream().allMatch(b -> b.order() >= 9));
    a.freePages(0, small, 2);
    a.freePages(0, big, 10);
    for (Zone z : a.zones()) {
      a.drainAllPages(z);
    }
    InvariantChecker.check(a);
    assertEquals(before - 2, f.reportedBlocks().size(), "freed blocks come back unreported");
    passUntilIdle(f, 10);
    assertEquals(before, f.reportedBlocks().size());
  }

  // ---------------------------------------------------------------- the err path

  @ParameterizedTest(name = "fail call {0}, runtime {1}")
  @CsvSource({"0, false", "1, false", "0, true", "2, true"})
  void shouldPutEveryBlockBackUnreportedWhenTheSinkFailsAndEndThePass(
      int failCall, boolean runtime) {
    // page_reporting_drain(prdev, sgl, n, !err): back to the free lists without the flag;
    // page_reporting_cycle/process_zone/process: the first error ends the whole pass
    ReportingOptions o = ReportingOptions.defaults().withBudgetDivisor(0);
    ReportingFixture f = ReportingFixture.boot(guest(1024), o);
    churn(f.allocator, 5);
    f.sink.failCalls(failCall, failCall + 1, runtime);
    long free = f.allocator.freePages();
    Set<Block> freeBefore = Set.copyOf(f.freeBlocks(0));
    assertTrue(f.freeBlocks(dma32(f), 9).size() > 32 * (failCall + 1), "enough for the calls");
    f.start();
    ReportingMetrics.Snapshot d = f.pass();
    assertEquals(failCall + 1, f.sink.calls(), "no call after the failed one");
    assertEquals(1, d.failedBatches());
    assertEquals(failCall, d.batches());
    assertEquals(32L * failCall, f.reportedBlocks().size(), "only acknowledged batches");
    assertEquals(free, f.allocator.freePages(), "nothing lost");
    assertEquals(freeBefore, Set.copyOf(f.freeBlocks(0)), "the same free blocks");
    assertEquals(ReportingAgent.State.IDLE, f.agent.state(), "an error requests no rerun");
    assertEquals(0, f.clock.pending());
    f.sink.succeed();
    passUntilIdle(fAfterRequest(f), 10);
    assertEquals(
        f.freeBlocks(dma32(f), 9).size(),
        f.reportedBlocks().size(),
        "the next request reports the rest");
  }

  private static ReportingFixture fAfterRequest(ReportingFixture f) {
    f.agent.request();
    return f;
  }

  // ---------------------------------------------------------------- migratetypes

  @Test
  void shouldReportHighatomicListsAndSkipIsolatedOnes() {
    // page_reporting_process_zone(): every mt but is_migrate_isolate(mt), so HIGHATOMIC (and
    // CMA) lists are reported; __isolate_free_page() leaves their pageblock type alone
    ReportingFixture f = ReportingFixture.boot(dma32Only(60, false), ReportingOptions.defaults());
    PageAllocator a = f.allocator;
    Zone z = dma32(f);
    List<Integer> used = new ArrayList<>();
    while (z.freePages() > z.wmarkPages(Zone.WMARK_LOW)) {
      used.add(a.allocPages(0, 0, MOVABLE));
    }
    assertTrue(used.stream().allMatch(p -> p >= 0));
    // below the low watermark: a high-order atomic allocation reserves its pageblock
    int atomic = a.allocPages(0, 9, Gfp.GFP_ATOMIC);
    assertTrue(atomic >= 0);
    assertEquals(MigrateType.HIGHATOMIC, a.memMap().getPfnblockMigratetype(atomic));
    for (int pfn : used) {
      a.freePages(0, pfn, 0);
    }
    a.freePages(0, atomic, 9);
    assertEquals(List.of(atomic), f.freeList(z, 9, MigrateType.HIGHATOMIC));
    // isolate the pageblocks of the first free order-10 block: move_freepages_block_isolate()
    // splits it into two order-9 blocks on the ISOLATE list, which is never walked
    int iso = f.freeList(z, 10, MigrateType.MOVABLE).get(0);
    PageIsolation isolation = new PageIsolation(a);
    assertEquals(0, isolation.startIsolatePageRange(0, iso, iso + 1024, PageIsolation.Mode.OTHER));
    assertEquals(Set.of(iso, iso + 512), Set.copyOf(f.freeList(z, 9, MigrateType.ISOLATE)));
    f.start();
    passUntilIdle(f, 10);
    assertTrue(f.sink.blocks().contains(new Block(atomic, 9)), "the HIGHATOMIC block");
    assertTrue(a.memMap().isReported(atomic));
    assertEquals(List.of(atomic), f.freeList(z, 9, MigrateType.HIGHATOMIC), "type kept");
    assertTrue(
        f.sink.blocks().stream().noneMatch(b -> b.pfn() >= iso && b.pfn() < iso + 1024),
        "nothing from the isolated pageblocks");
    assertFalse(a.memMap().isReported(iso));
    assertFalse(a.memMap().isReported(iso + 512));
    isolation.undoIsolatePageRange(iso, iso + 1024);
    InvariantChecker.check(a);
    List<Block> back =
        f.freeBlocks(z, 9).stream().filter(b -> b.pfn() >= iso && b.pfn() < iso + 1024).toList();
    assertFalse(back.isEmpty());
    assertTrue(back.stream().noneMatch(b -> a.memMap().isReported(b.pfn())));
    f.sink.clear();
    f.requestAndPass();
    assertEquals(back, f.sink.blocks(), "reported once back on a list");
  }

  // ---------------------------------------------------------------- the notifier

  @Test
  void shouldRequestAPassOnlyForFreesThatReachTheReportingOrder() {
    // page_reporting_notify_free(order): if (order < page_reporting_order) return; called by
    // __free_one_page() with the order after merging
    ReportingFixture f = ReportingFixture.boot(guestWithoutPcp(256), ReportingOptions.defaults());
    PageAllocator a = f.allocator;
    int b8 = a.allocPages(0, 8, MOVABLE); // splits a block: its buddies stay free
    int keep = a.allocPages(0, 8, MOVABLE); // b8's buddy
    assertEquals(b8 ^ 256, keep);
    int p0 = a.allocPages(0, 0, MOVABLE);
    f.start();
    f.pass();
    assertEquals(ReportingAgent.State.IDLE, f.agent.state());
    a.freePages(0, b8, 8); // buddy in use: stays order 8
    assertEquals(ReportingAgent.State.IDLE, f.agent.state(), "order 8 < 9");
    assertEquals(0, f.clock.pending());
    a.freePages(0, keep, 8); // merges to order 9 (its order-9 buddy holds p0's block)
    assertEquals(ReportingAgent.State.REQUESTED, f.agent.state(), "merged to order >= 9");
    assertEquals(1, f.clock.pending());
    a.freePages(0, p0, 0);
    assertEquals(1, f.clock.pending(), "requests merge while one is pending");
    assertEquals(2, f.agent.metrics().scheduled());
  }

  @Test
  void shouldNotRequestForBlocksHeldOnPcpListsUntilTheyReachTheBuddy() {
    // free_frozen_page_commit(): an order-9 (THP) free goes to the pcp list, not the buddy, so
    // nothing is free to report and page_reporting_notify_free() is not called yet
    ReportingFixture f = ReportingFixture.boot(guest(256), ReportingOptions.defaults());
    PageAllocator a = f.allocator;
    int thp = a.allocPages(0, 9, Gfp.GFP_TRANSHUGE_LIGHT);
    assertTrue(thp >= 0);
    f.start();
    f.pass();
    a.freePages(0, thp, 9);
    assertEquals(MemMap.K_PCP, a.memMap().kind(thp));
    assertEquals(ReportingAgent.State.IDLE, f.agent.state());
    a.drainAllPages(a.zoneOf(thp));
    assertEquals(ReportingAgent.State.REQUESTED, f.agent.state());
    f.sink.clear();
    f.pass();
    int block = thp & ~1023;
    assertEquals(List.of(new Block(block, 10)), f.sink.blocks(), "merged back to order 10");
  }

  @Test
  void shouldStopRequestingAfterClose() {
    // page_reporting_unregister(): the notifier is unpublished before the work is cancelled
    ReportingFixture f = ReportingFixture.boot(guestWithoutPcp(256), ReportingOptions.defaults());
    PageAllocator a = f.allocator;
    int b = a.allocPages(0, 10, MOVABLE);
    f.start();
    f.pass();
    f.agent.close();
    f.agent.close();
    a.freePages(0, b, 10);
    assertEquals(ReportingAgent.State.IDLE, f.agent.state());
    assertEquals(0, f.clock.pending());
  }

  // ---------------------------------------------------------------- a real thread

  @Test
  void shouldStopTheReportingThreadWithinABoundedTimeAndLoseNoPage() throws Exception {
    // page_reporting_unregister(): cancel_delayed_work_sync(); here a bounded join, then an
    // interrupt that fails the report the thread is blocked in (its pages go back unreported)
    PageAllocator a = new PageAllocator(guest(256));
    long free = a.freePages();
    CountDownLatch inReport = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    ReportSink blocking =
        (pfns, orders, n) -> {
          inReport.countDown();
          try {
            new CountDownLatch(1).await(); // a host that never answers
          } catch (InterruptedException e) {
            interrupted.countDown();
            throw new ReportException("interrupted", e);
          }
        };
    ReportingOptions o = ReportingOptions.defaults().withDelay(Duration.ZERO);
    ExecutorWorkScheduler thread =
        new ExecutorWorkScheduler("page-reporting", Duration.ofMillis(200));
    ReportingAgent agent =
        new ReportingAgent(new PageReportingStrategy(a, o), blocking, o.delay(), thread);
    agent.start();
    assertTrue(inReport.await(5, TimeUnit.SECONDS), "the pass reached the sink");
    assertNotEquals(free, a.freePages(), "a batch is in flight");
    long t0 = System.nanoTime();
    agent.close();
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertTrue(tookMs < 2000, "close took " + tookMs + " ms");
    assertTrue(interrupted.await(1, TimeUnit.SECONDS));
    assertTrue(thread.isTerminated());
    assertEquals(free, a.freePages(), "the batch went back");
    assertEquals(1, agent.metrics().failedBatches());
    InvariantChecker.check(a);
    agent.close();
  }
}
