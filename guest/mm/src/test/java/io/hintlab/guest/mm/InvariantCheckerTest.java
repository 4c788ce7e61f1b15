package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MigrateType.MOVABLE;
import static io.hintlab.guest.mm.MigrateType.UNMOVABLE;
import static io.hintlab.guest.mm.MmTestSupport.take;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The invariant checker the other tests lean on must see what it claims to see: each test breaks
 * one invariant by hand (what a bug in the free-list code would do) and expects the violation.
 * The invariants are those the kernel's own debug checks guard: VM_WARN_ONCE in
 * __add_to_free_list() (list type = pageblock type), page_is_buddy()/__free_one_page() merging,
 * and the counters account_freepages() keeps.
 */
class InvariantCheckerTest {
  private static PageAllocator boot() {
    return MmTestSupport.dma32Only(4096, b -> b.minFreeKbytes(0));
  }

  private static String violationAfter(Consumer<PageAllocator> breakIt) {
    PageAllocator a = boot();
    assertEquals(List.of(), InvariantChecker.violations(a), "a fresh allocator is consistent");
    Zone z = MmTestSupport.dma32(a);
    z.lock.lock();
    try {
      breakIt.accept(a);
    } finally {
      z.lock.unlock();
    }
    List<String> v = InvariantChecker.violations(a);
    assertEquals(1, v.size(), "exactly one violation expected: " + v);
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> InvariantChecker.check(a));
    assertTrue(e.getMessage().contains(v.get(0)), e.getMessage());
    return v.get(0);
  }

  @Test
  void shouldReportAFreeCounterThatDisagreesWithTheLists() {
    // account_freepages(): NR_FREE_PAGES follows every list change
    String v = violationAfter(a -> MmTestSupport.dma32(a).nrFreePages++);
    assertEquals("zone DMA32 [4096, 8192): NR_FREE_PAGES is 4097 but a recount gives 4096", v);
  }

  @Test
  void shouldReportTwoFreeBuddiesLeftUnmerged() {
    // __free_one_page() merges a free block with a free buddy of the same order
    String v = violationAfter(a -> {
      Zone z = MmTestSupport.dma32(a);
      int p0 = z.rmqueueSmallest(0, MOVABLE);
      int p1 = z.rmqueueSmallest(0, MOVABLE);
      z.addToFreeList(p0, 0, MOVABLE, false);
      z.addToFreeList(p1, 0, MOVABLE, false);
      z.accountFreepages(2, MOVABLE);
    });
    assertEquals(
        "zone DMA32 [4096, 8192): free buddies at pfn 4096 and 4097 of order 0 were not merged", v);
  }

  @Test
  void shouldReportAFreeBlockOnAListOfAnotherTypeThanItsPageblock() {
    // __add_to_free_list(): VM_WARN_ONCE(get_pageblock_migratetype(page) != migratetype)
    String v = violationAfter(a -> a.memMap().setPageblockTypeBits(4608, UNMOVABLE));
    assertTrue(v.startsWith("zone DMA32 [4096, 8192): free block at pfn 4096 order 10 is on the "
        + "Movable list but pageblock at 4608 is Unmovable"), v);
  }

  @Test
  void shouldReportPageReportedOnAPageThatIsNotFree() {
    // __del_page_from_free_list() clears PageReported when a block leaves the free lists
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    int pfn = take(z, 0, MOVABLE);
    a.memMap().setReported(pfn, true);
    List<String> v = InvariantChecker.violations(a);
    assertEquals(List.of("zone DMA32 [4096, 8192): pfn 4096 is marked reported but is not a free "
        + "block (kind 5)"), v);
  }

  @Test
  void shouldReportAPcpCountThatDisagreesWithItsLists() {
    // pcp->count is the pages on all of the cpu's lists
    PageAllocator a = boot();
    Zone z = MmTestSupport.dma32(a);
    a.allocPages(0, 0, Gfp.GFP_HIGHUSER_MOVABLE);
    PerCpuPages p = z.pcp(0);
    synchronized (p) {
      p.count++;
    }
    List<String> v = InvariantChecker.violations(a);
    assertEquals(1, v.size(), v.toString());
    String expected = "cpu 0 pcp count is " + p.count() + " but its lists hold ";
    assertTrue(v.get(0).contains(expected), v.get(0));
  }
}
