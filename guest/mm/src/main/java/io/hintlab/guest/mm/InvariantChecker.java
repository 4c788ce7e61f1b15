package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MemMap.K_ALLOC;
import static io.hintlab.guest.mm.MemMap.K_BUDDY;
import static io.hintlab.guest.mm.MemMap.K_FREE_TAIL;
import static io.hintlab.guest.mm.MemMap.K_HOLE;
import static io.hintlab.guest.mm.MemMap.K_PCP;
import static io.hintlab.guest.mm.MemMap.K_RESERVED;
import static io.hintlab.guest.mm.MemMap.K_TAIL;
import static io.hintlab.guest.mm.MemMap.K_TAKEN;
import static io.hintlab.guest.mm.MemMap.NIL;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * Checks the allocator's invariants (DESIGN section 2) by walking every pfn, every free list and
 * every per-cpu list and recounting the counters:
 *
 * <ul>
 *   <li>every pfn is in exactly one state: a hole, reserved, or one page of exactly one block
 *       (free on a free list, on a pcp list, allocated, or taken off the lists for a report);
 *   <li>blocks are naturally aligned and lie inside one zone;
 *   <li>free lists are well linked, hold only free heads of their order and type, no block is on
 *       two lists, and list lengths and nr_free equal recounts;
 *   <li>a free block's list type equals the type of every pageblock it covers (v6.10+);
 *   <li>no two free buddies of the same order below pageblock order are left unmerged;
 *   <li>NR_FREE_PAGES, NR_FREE_CMA_PAGES, nr_free_highatomic, NR_FREE_PAGES_BLOCKS and
 *       nr_isolate_pageblock equal recounts; pcp counts equal their lists;
 *   <li>only free blocks are marked reported.
 * </ul>
 *
 * <p>It takes every pcp lock and zone lock for the walk, so it may be called at any time from any
 * thread; it costs O(pages).
 */
public final class InvariantChecker {
  private static final int MAX_VIOLATIONS = 20;

  private final PageAllocator a;
  private final MemMap mm;
  private final Geometry geo;
  private final List<String> violations = new ArrayList<>();

  private InvariantChecker(PageAllocator a) {
    this.a = a;
    this.mm = a.mm;
    this.geo = a.geo;
  }

  /**
   * Returns the violations found (empty if the state is consistent); at most 20 are listed.
   *
   * @param a the allocator
   * @return the violations, each naming the zone and pfn
   */
  public static List<String> violations(PageAllocator a) {
    InvariantChecker c = new InvariantChecker(a);
    c.lockAllAndRun(0);
    return List.copyOf(c.violations);
  }

  /**
   * Throws if any invariant is violated.
   *
   * @param a the allocator
   * @throws IllegalStateException naming every violation found
   */
  public static void check(PageAllocator a) {
    List<String> v = violations(a);
    if (!v.isEmpty()) {
      throw new IllegalStateException(
          "allocator invariants violated:\n  " + String.join("\n  ", v));
    }
  }

  // Locking: every pcp monitor (in zone, cpu order), then every zone lock, as the free path
  // nests zone->lock inside pcp->lock.
  private void lockAllAndRun(int i) {
    List<Zone> zones = a.zones();
    int nrPcp = zones.size() * a.nrCpus();
    if (i < nrPcp) {
      PerCpuPages p = zones.get(i / a.nrCpus()).pcp[i % a.nrCpus()];
      synchronized (p) {
        lockAllAndRun(i + 1);
      }
      return;
    }
    for (Zone z : zones) {
      z.lock.lock();
    }
    try {
      run();
    } finally {
      for (Zone z : zones) {
        z.lock.unlock();
      }
    }
  }

  private void fail(String msg) {
    if (violations.size() < MAX_VIOLATIONS) {
      violations.add(msg);
    }
  }

  private void run() {
    int prevEnd = 0;
    for (Zone z : a.zones()) {
      checkHoles(prevEnd, z.startPfn);
      checkZonePages(z);
      checkFreeLists(z);
      checkPcpLists(z);
      checkCounters(z);
      prevEnd = z.endPfn();
    }
    checkHoles(prevEnd, mm.nrPages);
  }

  private void checkHoles(int from, int to) {
    for (int pfn = from; pfn < to; pfn++) {
      if (mm.kind(pfn) != K_HOLE) {
        fail("pfn " + pfn + " outside every zone has kind " + mm.kind(pfn));
        return;
      }
    }
  }

  /** Walks the zone pfn by pfn: every page belongs to exactly one well-formed block. */
  private void checkZonePages(Zone z) {
    int end = z.endPfn();
    for (int pfn = z.startPfn; pfn < end; ) {
      int k = mm.kind(pfn);
      if (mm.isReported(pfn) && k != K_BUDDY) {
        fail(z + ": pfn " + pfn + " is marked reported but is not a free block (kind " + k + ")");
      }
      if (k == K_HOLE || k == K_RESERVED) {
        pfn++;
        continue;
      }
      if (k == K_FREE_TAIL || k == K_TAIL) {
        fail(z + ": pfn " + pfn + " is a tail page of no block (kind " + k + ")");
        pfn++;
        continue;
      }
      int order = mm.order(pfn);
      int nr = 1 << order;
      if (order < 0 || order >= geo.nrPageOrders() || (pfn & (nr - 1)) != 0 || pfn + nr > end) {
        fail(z + ": block at pfn " + pfn + " of order " + order
            + " is misaligned or crosses the zone end");
        pfn++;
        continue;
      }
      int tailKind = k == K_BUDDY ? K_FREE_TAIL : K_TAIL;
      for (int t = pfn + 1; t < pfn + nr; t++) {
        if (mm.kind(t) != tailKind) {
          fail(z + ": pfn " + t + " inside the order-" + order + " block at " + pfn
              + " (kind " + k + ") has kind " + mm.kind(t));
          break;
        }
      }
      if (k == K_BUDDY) {
        checkFreeBlockTypes(z, pfn, order);
        checkUnmergedBuddy(z, pfn, order);
      } else if (k != K_PCP && k != K_ALLOC && k != K_TAKEN) {
        fail(z + ": pfn " + pfn + " has unknown kind " + k);
      }
      pfn += nr;
    }
  }

  /** A free block's list type equals the type of every pageblock it covers. */
  private void checkFreeBlockTypes(Zone z, int pfn, int order) {
    int listMt = mm.aux(pfn);
    int nr = 1 << order;
    for (int p = pfn; p < pfn + nr; p += geo.pageblockNrPages()) {
      int pbMt = mm.getPfnblockMigratetype(p);
      if (pbMt != listMt) {
        fail(z + ": free block at pfn " + pfn + " order " + order + " is on the "
            + MigrateType.name(listMt) + " list but pageblock at " + geo.pageblockStartPfn(p)
            + " is " + MigrateType.name(pbMt));
        return;
      }
    }
  }

  /**
   * __free_one_page() would have merged two free buddies below pageblock order. At pageblock order
   * and above the kernel itself leaves pairs unmerged: the no-merge rule keeps isolated, CMA and
   * HIGHATOMIC blocks apart, and a later type change (move_freepages_block() when unreserving a
   * HIGHATOMIC block, or isolating both halves) moves free blocks between lists without merging.
   */
  private void checkUnmergedBuddy(Zone z, int pfn, int order) {
    if (order >= geo.pageblockOrder()) {
      return;
    }
    int buddy = pfn ^ (1 << order);
    if (buddy < pfn || !z.isBuddyOfOrder(buddy, order)) {
      return; // check each pair once, from its lower half
    }
    fail(z + ": free buddies at pfn " + pfn + " and " + buddy + " of order " + order
        + " were not merged");
  }

  /** Every list is well linked and holds only its own kind of block; no block on two lists. */
  private void checkFreeLists(Zone z) {
    BitSet seen = new BitSet();
    long buddyHeads = countHeads(z, K_BUDDY);
    long listed = 0;
    for (int o = 0; o < geo.nrPageOrders(); o++) {
      long nrFree = 0;
      for (int mt = 0; mt < MigrateType.TYPES; mt++) {
        int li = o * MigrateType.TYPES + mt;
        int len = walkFreeList(z, o, mt, z.listHead[li], z.listTail[li], seen);
        if (len != z.listLen[li]) {
          fail(z + ": free list order " + o + " " + MigrateType.name(mt) + " has " + len
              + " blocks but its length says " + z.listLen[li]);
        }
        nrFree += len;
      }
      if (nrFree != z.nrFree[o]) {
        fail(z + ": nr_free[" + o + "] is " + z.nrFree[o] + " but the lists hold " + nrFree);
      }
      listed += nrFree;
    }
    if (listed != buddyHeads) {
      fail(z + ": " + buddyHeads + " free blocks in the memory map but " + listed + " on lists");
    }
  }

  private int walkFreeList(Zone z, int order, int mt, int head, int tail, BitSet seen) {
    int len = 0;
    int prev = NIL;
    for (int pfn = head; pfn != NIL; pfn = mm.next[pfn]) {
      if (!z.spans(pfn) || seen.get(pfn)) {
        fail(z + ": free list order " + order + " " + MigrateType.name(mt)
            + (seen.get(pfn) ? " revisits pfn " : " leaves the zone at pfn ") + pfn);
        return len;
      }
      seen.set(pfn);
      if (mm.prev[pfn] != prev) {
        fail(z + ": free list order " + order + " " + MigrateType.name(mt)
            + " has a broken back link at pfn " + pfn);
      }
      if (mm.kind(pfn) != K_BUDDY || mm.order(pfn) != order || mm.aux(pfn) != mt) {
        fail(z + ": pfn " + pfn + " on free list order " + order + " " + MigrateType.name(mt)
            + " is kind " + mm.kind(pfn) + " order " + mm.order(pfn) + " list " + mm.aux(pfn));
      }
      prev = pfn;
      len++;
    }
    if (prev != tail) {
      fail(z + ": free list order " + order + " " + MigrateType.name(mt) + " tail is " + tail
          + " but the walk ended at " + prev);
    }
    return len;
  }

  private long countHeads(Zone z, int kind) {
    long n = 0;
    for (int pfn = z.startPfn; pfn < z.endPfn(); pfn++) {
      if (mm.kind(pfn) == kind) {
        n++;
      }
    }
    return n;
  }

  /** pcp lists hold PCP heads of their order and index; count equals the pages on them. */
  private void checkPcpLists(Zone z) {
    BitSet seen = new BitSet();
    long pcpHeads = countHeads(z, K_PCP);
    long listed = 0;
    for (PerCpuPages p : z.pcp) {
      long pages = 0;
      for (int i = 0; i < PerCpuPages.NR_PCP_LISTS; i++) {
        int order = p.pindexToOrder(i);
        int prev = NIL;
        for (int pfn = p.head[i]; pfn != NIL; pfn = mm.next[pfn]) {
          if (!z.spans(pfn) || seen.get(pfn)) {
            fail(z + ": cpu " + p.cpu + " pcp list " + i + " is corrupt at pfn " + pfn);
            break;
          }
          seen.set(pfn);
          if (mm.kind(pfn) != K_PCP || mm.aux(pfn) != i || mm.order(pfn) != order
              || mm.prev[pfn] != prev) {
            fail(z + ": pfn " + pfn + " on cpu " + p.cpu + " pcp list " + i + " is kind "
                + mm.kind(pfn) + " order " + mm.order(pfn) + " index " + mm.aux(pfn));
          }
          prev = pfn;
          pages += 1L << order;
          listed++;
        }
        if (prev != p.tail[i]) {
          fail(z + ": cpu " + p.cpu + " pcp list " + i + " tail is " + p.tail[i]
              + " but the walk ended at " + prev);
        }
      }
      if (pages != p.count) {
        fail(z + ": cpu " + p.cpu + " pcp count is " + p.count + " but its lists hold " + pages);
      }
    }
    if (listed != pcpHeads) {
      fail(z + ": " + pcpHeads + " pcp blocks in the memory map but " + listed + " on pcp lists");
    }
  }

  /** Zone counters equal recounts from the memory map. */
  private void checkCounters(Zone z) {
    long free = 0;
    long cma = 0;
    long highatomic = 0;
    long blocks = 0;
    for (int pfn = z.startPfn; pfn < z.endPfn(); pfn++) {
      if (mm.kind(pfn) != K_BUDDY) {
        continue;
      }
      int order = mm.order(pfn);
      int mt = mm.aux(pfn);
      long nr = 1L << order;
      if (mt != MigrateType.ISOLATE) {
        free += nr;
        if (order >= geo.pageblockOrder()) {
          blocks += nr;
        }
      }
      if (mt == MigrateType.CMA) {
        cma += nr;
      } else if (mt == MigrateType.HIGHATOMIC) {
        highatomic += nr;
      }
    }
    long isolated = 0;
    for (int pfn = z.startPfn; pfn < z.endPfn(); pfn += geo.pageblockNrPages()) {
      if (mm.isPageblockIsolated(pfn)) {
        isolated++;
      }
    }
    expect(z, "NR_FREE_PAGES", z.nrFreePages, free);
    expect(z, "NR_FREE_CMA_PAGES", z.nrFreeCma, cma);
    expect(z, "nr_free_highatomic", z.nrFreeHighatomic, highatomic);
    expect(z, "NR_FREE_PAGES_BLOCKS", z.nrFreePagesBlocks, blocks);
    expect(z, "nr_isolate_pageblock", z.nrIsolatePageblock, isolated);
  }

  private void expect(Zone z, String counter, long actual, long recount) {
    if (actual != recount) {
      fail(z + ": " + counter + " is " + actual + " but a recount gives " + recount);
    }
  }
}
