package io.hintlab.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Shrinkers and the OOM notifier chain in the slow path (try_to_free_pages, out_of_memory). */
class ReclaimTest {

  /** A cache of order-0 pages a shrinker gives back, like the balloon's hinted blocks. */
  private static final class PageCache implements Shrinker {
    final PageAllocator a;
    final Deque<Integer> pages = new ArrayDeque<>();
    final AtomicInteger scans = new AtomicInteger();

    PageCache(PageAllocator a) {
      this.a = a;
    }

    synchronized void fill(int n) {
      for (int i = 0; i < n; i++) {
        int pfn = a.allocPages(0, 0, Gfp.GFP_KERNEL | Gfp.__GFP_NORETRY);
        assertTrue(pfn >= 0);
        pages.push(pfn);
      }
    }

    @Override
    public synchronized long countObjects() {
      return pages.size();
    }

    @Override
    public synchronized long scanObjects(int cpu, long nrToScan) {
      scans.incrementAndGet();
      long freed = 0;
      while (freed < nrToScan && !pages.isEmpty()) {
        a.freePages(cpu, pages.pop(), 0);
        freed++;
      }
      return freed;
    }
  }

  private static void exhaust(PageAllocator a, int gfp) {
    while (a.allocPages(0, 0, gfp) >= 0) {
      // take everything the watermarks let this gfp have
    }
  }

  @Test
  void shouldLetAnAllocationSucceedOnceAShrinkerGivesPagesBack() {
    PageAllocator a = new PageAllocator(MmConfig.forMemory(64L << 20));
    PageCache cache = new PageCache(a);
    cache.fill(1000);
    exhaust(a, Gfp.GFP_KERNEL);
    long stalls = a.allocStalls();
    a.registerShrinker(cache);
    int pfn = a.allocPages(0, 0, Gfp.GFP_KERNEL);
    assertTrue(pfn >= 0, "reclaim through the shrinker made room");
    assertTrue(cache.scans.get() > 0);
    assertTrue(cache.pages.size() < 1000);
    assertTrue(a.reclaimedPages() > 0);
    assertTrue(a.allocStalls() > stalls, "each pass through direct reclaim is an allocstall");
    InvariantChecker.check(a);
  }

  @Test
  void shouldNotCallShrinkersForAllocationsThatCannotReclaim() {
    PageAllocator a = new PageAllocator(MmConfig.forMemory(64L << 20));
    PageCache cache = new PageCache(a);
    cache.fill(100);
    exhaust(a, Gfp.GFP_KERNEL);
    a.registerShrinker(cache);
    assertEquals(-1, a.allocPages(0, 0, Gfp.GFP_NOWAIT));
    assertEquals(0, cache.scans.get(), "GFP_NOWAIT has no __GFP_DIRECT_RECLAIM");
    assertTrue(a.unregisterShrinker(cache));
    assertEquals(-1, a.allocPages(0, 0, Gfp.GFP_KERNEL));
    assertEquals(0, cache.scans.get(), "an unregistered shrinker is not called");
  }

  @Test
  void shouldScanAtMostTwiceTheCacheAndDeferSmallScans() {
    PageAllocator a = new PageAllocator(MmConfig.forMemory(64L << 20));
    PageCache cache = new PageCache(a);
    cache.fill(5000);
    exhaust(a, Gfp.GFP_KERNEL);
    a.registerShrinker(cache);
    assertTrue(a.allocPages(0, 0, Gfp.GFP_KERNEL) >= 0);
    // 5000 >> 12 = 1 (x2 = 2) is below SHRINK_BATCH and below the cache: deferred, priority by
    // priority, until a pass scans a whole batch; reclaim stops at SWAP_CLUSTER_MAX.
    assertTrue(a.slabsScanned() >= Reclaim.SHRINK_BATCH, "scanned " + a.slabsScanned());
    assertTrue(5000 - cache.pages.size() <= 2 * 5000);
    assertTrue(a.reclaimedPages() >= Reclaim.SWAP_CLUSTER_MAX);
  }

  @Test
  void shouldRetryWhenAnOomNotifierFreesPagesAndFailWhenItFreesNone() {
    PageAllocator a = new PageAllocator(MmConfig.forMemory(64L << 20));
    PageCache held = new PageCache(a);
    held.fill(2000);
    exhaust(a, Gfp.GFP_KERNEL);
    AtomicInteger calls = new AtomicInteger();
    OomNotifier deflate = cpu -> {
      calls.incrementAndGet();
      return held.scanObjects(cpu, 256); // virtio_balloon_oom_notify(): VIRTIO_BALLOON_OOM_NR_PAGES
    };
    a.registerOomNotifier(deflate);
    assertTrue(a.allocPages(0, 0, Gfp.GFP_KERNEL) >= 0);
    // Freed pages land on the cpu's pcp list, which NR_FREE_PAGES does not count, so the chain
    // runs until the list crosses its high mark and spills to the buddy (as in the kernel).
    assertTrue(calls.get() >= 1);
    assertEquals(256L * calls.get(), a.oomFreedPages());
    // Allocate until the notifier has nothing left: only then does an allocation fail.
    while (a.allocPages(0, 0, Gfp.GFP_KERNEL) >= 0) {
      // each retry after the notifier freed pages is progress
    }
    assertTrue(held.pages.isEmpty(), "the model fails only when the notifier freed nothing");
    assertEquals(2000, a.oomFreedPages());
    InvariantChecker.check(a);
  }

  @Test
  void shouldNotCallOomNotifiersForCostlyNoretryOrLowmemAllocations() {
    PageAllocator a = new PageAllocator(MmConfig.forMemory(64L << 20));
    PageCache held = new PageCache(a);
    held.fill(2000);
    exhaust(a, Gfp.GFP_KERNEL);
    AtomicInteger calls = new AtomicInteger();
    a.registerOomNotifier(cpu -> {
      calls.incrementAndGet();
      return held.scanObjects(cpu, 256);
    });
    assertEquals(-1, a.allocPages(0, 4, Gfp.GFP_KERNEL), "order 4 is costly");
    assertEquals(-1, a.allocPages(0, 0, Gfp.GFP_KERNEL | Gfp.__GFP_NORETRY));
    assertEquals(-1, a.allocPages(0, 0, Gfp.GFP_KERNEL | Gfp.__GFP_RETRY_MAYFAIL));
    assertEquals(-1, a.allocPages(0, 0, Gfp.GFP_KERNEL | Gfp.__GFP_DMA32), "lowmem");
    assertEquals(0, calls.get());
    assertTrue(a.allocPages(0, 0, Gfp.GFP_KERNEL) >= 0);
    assertTrue(calls.get() >= 1);
  }
}
