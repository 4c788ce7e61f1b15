package io.hintlab.guest.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The resident set ({@code guest run --resident}): fills to its size with a kernel and page-cache
 * mix, written through the page writer, the same pfns for the same seed; nothing for 0 bytes; as
 * much as fits when memory is too small; and everything back, verified, at {@code releaseAll()}.
 */
class ResidentSetTest {
  private static final long MEMORY = 64L << 20;
  private static final long SIZE = 16L << 20;

  private static PageAllocator allocator() {
    return new PageAllocator(MmConfig.builder().memory(MEMORY).nrCpus(2).build());
  }

  /** The held blocks as "pfn/order", which two fills of the same seed must share. */
  private static Set<String> blocks(LiveBlocks live) {
    Set<String> out = new HashSet<>();
    for (int i = 0; i < live.size(); i++) {
      out.add(live.pfn(i) + "/" + live.order(i));
    }
    return out;
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3})
  void fillsToItsSizeWithinOneMaxOrderBlock(long seed) {
    PageAllocator pa = allocator();
    ResidentSet r = ResidentSet.create(pa, seed, null, SIZE);
    long pages = SIZE / pa.geometry().pageSize();
    r.run(0);
    String at = "seed " + seed;
    assertEquals(pages, r.targetPages(), at);
    assertTrue(r.heldPages() >= pages, at + ": held " + r.heldPages());
    assertTrue(r.heldPages() < pages + (1L << pa.geometry().maxPageOrder()),
        at + ": held " + r.heldPages());
    assertEquals(r.live().pages(), r.heldPages(), at);
    InvariantChecker.check(pa);
  }

  @Test
  void holdsMostlyOrderZeroWithSomeSmallKernelOrdersAndNoThp() {
    ResidentSet r = ResidentSet.create(allocator(), 4, null, SIZE);
    r.run(0);
    LiveBlocks live = r.live();
    int orderZero = 0;
    int maxOrder = 0;
    for (int i = 0; i < live.size(); i++) {
      orderZero += live.order(i) == 0 ? 1 : 0;
      maxOrder = Math.max(maxOrder, live.order(i));
    }
    assertTrue(orderZero > live.size() * 3 / 4, orderZero + " of " + live.size());
    assertTrue(maxOrder > 0 && maxOrder <= 3, "largest order " + maxOrder);
  }

  @Test
  void theSameSeedFillsTheSamePfnsAndAnotherSeedOthers() {
    ResidentSet a = ResidentSet.create(allocator(), 7, null, SIZE);
    ResidentSet b = ResidentSet.create(allocator(), 7, null, SIZE);
    ResidentSet c = ResidentSet.create(allocator(), 8, null, SIZE);
    a.run(0);
    b.run(0);
    c.run(0);
    assertEquals(blocks(a.live()), blocks(b.live()));
    assertNotEquals(blocks(a.live()), blocks(c.live()));
  }

  @Test
  void itsStreamIsNotTheWorkloadsOfTheSameSeed() {
    ResidentSet r = ResidentSet.create(allocator(), 9, null, 0);
    assertEquals(9 ^ ResidentSet.SEED_SALT, r.seed());
  }

  @Test
  void zeroBytesAllocatesNothing() {
    PageAllocator pa = allocator();
    long free = pa.freePages();
    RecordingWriter writer = new RecordingWriter(pa, "zero");
    ResidentSet r = ResidentSet.create(pa, 1, writer, 0);
    WorkloadResult result = r.run(0);
    assertEquals(0, r.targetPages());
    assertEquals(0, r.heldPages());
    assertEquals(0, result.allocs());
    assertEquals(0, writer.writes);
    assertEquals(free, pa.freePages());
  }

  @Test
  void negativeBytesAreRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ResidentSet.create(allocator(), 1, null, -1));
    assertEquals("bytes must be >= 0, got -1", e.getMessage());
  }

  @Test
  void aSizeOfPartOfAPageTakesTheWholePage() {
    ResidentSet r = ResidentSet.create(allocator(), 1, null, 1);
    r.run(0);
    assertEquals(1, r.targetPages());
    assertEquals(1, r.heldPages());
  }

  @Test
  void everyPageIsWrittenOnAllocationAndVerifiedBeforeItsFree() {
    PageAllocator pa = allocator();
    RecordingWriter writer = new RecordingWriter(pa, "resident");
    ResidentSet r = ResidentSet.create(pa, 5, writer, SIZE);
    r.run(0);
    assertEquals(r.heldPages(), writer.pagesWritten);
    assertEquals(r.live().size(), writer.open());
    assertEquals(0, writer.pagesVerified, "nothing verified while held");
    r.releaseAll();
    assertEquals(0, writer.open(), "every block verified before its free");
    assertEquals(writer.pagesWritten, writer.pagesVerified);
  }

  @Test
  void releaseAllGivesEverythingBackAndLeavesNoViolation() {
    PageAllocator pa = allocator();
    long free = pa.freePages();
    ResidentSet r = ResidentSet.create(pa, 6, new RecordingWriter(pa, "release"), SIZE);
    r.run(0);
    assertTrue(pa.freePages() < free, "held while filled");
    r.releaseAll();
    pa.drainAllPages(null);
    assertEquals(0, r.heldPages());
    assertEquals(free, pa.freePages());
    assertEquals(List.of(), InvariantChecker.violations(pa));
  }

  @Test
  void aWorkloadsReleaseAllLeavesTheResidentSetHeld() {
    PageAllocator pa = allocator();
    ResidentSet r = ResidentSet.create(pa, 10, null, SIZE);
    r.run(0);
    long held = r.heldPages();
    int blocks = r.live().size();
    Workload w = Workloads.create("churn", pa, 10);
    w.run(20_000);
    w.releaseAll();
    // (compaction may have moved resident pages: their blocks are followed, not fixed)
    assertEquals(held, r.heldPages());
    assertEquals(blocks, r.live().size());
    InvariantChecker.check(pa);
  }

  @Test
  void memoryTooSmallFillsWhatFitsWithoutFailing() {
    PageAllocator pa = allocator();
    while (pa.allocPages(0, 9, Gfp.GFP_HIGHUSER_MOVABLE) >= 0) {
      if (pa.freePages() < 2048) {
        break; // leave about 8 MiB
      }
    }
    ResidentSet r = ResidentSet.create(pa, 11, null, SIZE);
    WorkloadResult result = r.run(0);
    assertTrue(r.heldPages() > 0 && r.heldPages() < r.targetPages(),
        "held " + r.heldPages() + " of " + r.targetPages());
    assertTrue(result.failures() >= ResidentSet.MAX_FAILURES_IN_A_ROW, result.toString());
    InvariantChecker.check(pa);
  }
}
