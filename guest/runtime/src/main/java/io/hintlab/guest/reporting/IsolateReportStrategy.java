package io.hintlab.guest.reporting;

import io.hintlab.guest.mm.FreePageNotifier;
import io.hintlab.guest.mm.Geometry;
import io.hintlab.guest.mm.MemMap;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.PageIsolation;
import io.hintlab.guest.mm.Zone;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code isolate-report}: free page reporting through the page isolation framework, as David
 * Hildenbrand proposed it to Alexander Duyck (lkml, "Re: [PATCH v13 ...]", 2019-11-12): "It's
 * basically only isolating pages while reporting them, and not pulling them out of the buddy (IOW,
 * you move the pages to the isolate queues where nobody is allowed to touch them ...). This e.g.,
 * makes other user of page isolation (e.g., memory offlining, alloc_contig_range()) play nicely
 * with these isolated pages. 'somebody else just isolated them, please try again.'"
 *
 * <ul>
 *   <li><b>Candidates</b>: a per-zone bitmap with one bit per naturally aligned chunk of {@code
 *       2^order} pages, the reporting order being at least the pageblock order because isolation
 *       works on whole pageblocks. The single free hook ({@link FreePageNotifier#onFree(Zone, int,
 *       int)}, called by {@code __free_one_page()} with the merged block) sets the bit of every
 *       chunk a block of the reporting order or above covers and requests a pass. The bits are
 *       atomic ({@code set_bit()} / {@code test_and_clear_bit()}), so the pass reads them without
 *       the zone lock, as Duyck asked ("your notification setup and reporting thread may need a
 *       few smp barriers").
 *   <li><b>Pass</b>, per set bit, Hildenbrand's steps: "1. Test lockless if page is free: Not
 *       free? Done." (the bit is cleared; a later free sets it again). The check reads the memory
 *       map without the lock and asks whether every page of the chunk has no user: it lies in a
 *       free buddy, on a pcp list or in a block another reporter took off the lists (all have a
 *       zero refcount in the kernel). "2. start_isolate_page_range(): Busy? Rare race (with other
 *       isolate users or with an allocation). Done." -EBUSY is counted ({@link
 *       ReportingMetrics#isolationConflicts()}) and the bit kept for a later pass. "3.
 *       test_pages_isolated() 3a. no? Rare race, page not free anymore. undo_isolate_page_range()"
 *       (pcp pages and blocks taken by page reporting are not PageBuddy: counted in {@link
 *       ReportingMetrics#isolationTestFailures()}, undone, the bit kept). "3b. yes? Report, then
 *       undo_isolate_page_range()": the chunk's free buddies, now on the ISOLATE lists, are taken
 *       off with {@code __isolate_free_page()} (no watermark check for isolated pageblocks) into
 *       the batch of at most {@code capacity} blocks, which goes to the host with the zone lock
 *       dropped. After the acknowledgement every block goes back with {@code
 *       __putback_isolated_page()} (tail, no notification) and is marked reported only on success
 *       and only when it did not merge; then the chunks of the batch are un-isolated, which lets
 *       their blocks merge with their free neighbours again.
 *   <li><b>Errors</b>: a failed report puts its blocks back unreported, sets their chunks' bits
 *       again, un-isolates the chunks and ends the pass.
 * </ul>
 *
 * <p>No pageblock stays isolated after a pass: every isolation the pass makes is undone before
 * {@link #doWork} returns, also when the sink throws. Frees the pass causes itself inside the
 * isolation calls ({@code split_large_buddy()} when isolation splits or un-isolation re-frees a
 * buddy larger than a pageblock) set no bits: like {@code __putback_isolated_page()}'s {@code
 * FPI_SKIP_REPORT_NOTIFY}, a pass must not feed itself, or a reported pageblock whose buddy is free
 * would be reported again on every pass.
 *
 * <p>Hildenbrand's answer to the watermark question ("doesn't all that logic more or less ignore
 * the watermarks? ... you could cause an OOM") was to "limit the number of pages we report at a
 * time": isolated free pages are not counted as free, so at most {@code capacity} chunks are
 * withheld from allocation at once. There is no zone gate.
 *
 * <p>Options used: order (unspecified means the pageblock order; must be in [pageblock order,
 * MAX_PAGE_ORDER]), capacity (at least the pageblocks of one chunk: a chunk's blocks go to the host
 * in one batch, so that putting one back on the ISOLATE list cannot merge it with a sibling still
 * waiting to be taken) and isolation cpu. The isolation cpu must be an index no allocating
 * thread uses: {@code start_isolate_page_range()} migrates a movable block that straddles the
 * range's edge, allocating the target and freeing the source through that cpu's per-cpu lists and
 * non-atomic counters (the kernel's worker runs on a cpu of its own). Unspecified means the
 * allocator's last cpu.
 *
 * <p><b>Note:</b> the hook runs under a zone lock on freeing threads and only sets bits and
 * requests a pass; {@link #doWork} runs only on the reporting thread.
 */
public final class IsolateReportStrategy implements ReportingStrategy {
  /** The registry name. */
  public static final String NAME = "isolate-report";

  private static final Logger LOG = LoggerFactory.getLogger(IsolateReportStrategy.class);

  private final MemMap mm;
  private final Geometry geo;
  private final List<Zone> zones;
  private final List<AtomicLongArray> bitmaps = new ArrayList<>();
  private final PageIsolation isolation;
  private final int order;
  private final int capacity;
  private final int cpu;
  private final long[] batchPfns;
  private final int[] batchOrders;
  /** Chunks isolated for the current batch, to un-isolate after it came back. */
  private final int[] isolatedChunks;
  private int nrIsolated;
  /** The reporting thread while it is inside an isolation call: its own frees set no bits. */
  private volatile Thread quiet;

  /**
   * Creates the strategy for an allocator.
   *
   * @param allocator the allocator
   * @param options order, capacity and isolation cpu are used
   * @throws IllegalArgumentException if the order is outside [pageblock order, MAX_PAGE_ORDER],
   *     the capacity cannot hold one chunk's pageblocks, or the isolation cpu is not one of the
   *     allocator's
   */
  public IsolateReportStrategy(PageAllocator allocator, ReportingOptions options) {
    this.geo = allocator.geometry();
    int o =
        options.order() == ReportingOptions.ORDER_UNSPECIFIED
            ? geo.pageblockOrder()
            : options.order();
    if (o < geo.pageblockOrder() || o > geo.maxPageOrder()) {
      throw new IllegalArgumentException(
          "order must be in ["
              + geo.pageblockOrder()
              + ", "
              + geo.maxPageOrder()
              + "] (isolation works on whole pageblocks), got "
              + o);
    }
    int c =
        options.isolationCpu() == ReportingOptions.CPU_UNSPECIFIED
            ? allocator.nrCpus() - 1
            : options.isolationCpu();
    if (c >= allocator.nrCpus()) {
      throw new IllegalArgumentException(
          "isolationCpu must be in [0, " + allocator.nrCpus() + "), got " + c);
    }
    if (options.capacity() < 1 << (o - geo.pageblockOrder())) {
      throw new IllegalArgumentException(
          "capacity must be >= "
              + (1 << (o - geo.pageblockOrder()))
              + " for order "
              + o
              + " (a chunk's pageblocks go to the host in one batch), got "
              + options.capacity());
    }
    this.mm = allocator.memMap();
    this.zones = allocator.zones();
    this.isolation = new PageIsolation(allocator);
    this.order = o;
    this.capacity = options.capacity();
    this.cpu = c;
    this.batchPfns = new long[capacity];
    this.batchOrders = new int[capacity];
    this.isolatedChunks = new int[capacity];
    for (Zone z : zones) {
      int bits = Math.max(1, chunkOf(z, z.endPfn() - 1) + 1);
      bitmaps.add(new AtomicLongArray((bits + 63) >>> 6));
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  /** The reporting order: one bit per 2^order pages, set by frees of that order or above. */
  public int order() {
    return order;
  }

  /** Blocks per report call. */
  public int capacity() {
    return capacity;
  }

  /** The cpu index handed to start_isolate_page_range(). */
  public int isolationCpu() {
    return cpu;
  }

  /**
   * The number of candidate chunks of a zone.
   *
   * @param zoneIndex the index in the allocator's populated zones
   * @return the set bits (a racy count while frees run)
   */
  public int pendingBits(int zoneIndex) {
    AtomicLongArray bits = bitmaps.get(zoneIndex);
    int n = 0;
    for (int i = 0; i < bits.length(); i++) {
      n += Long.bitCount(bits.get(i));
    }
    return n;
  }

  private int chunkOf(Zone z, int pfn) {
    return (pfn >> order) - (z.startPfn() >> order);
  }

  private int pfnOfChunk(Zone z, int chunk) {
    return (chunk + (z.startPfn() >> order)) << order;
  }

  private static void setBit(AtomicLongArray bits, int bit) {
    long mask = 1L << bit;
    int i = bit >>> 6;
    long old = bits.get(i);
    while ((old & mask) == 0) {
      long seen = bits.compareAndExchange(i, old, old | mask);
      if (seen == old) {
        return;
      }
      old = seen;
    }
  }

  private static void clearBit(AtomicLongArray bits, int bit) {
    long mask = 1L << bit;
    int i = bit >>> 6;
    long old = bits.get(i);
    while ((old & mask) != 0) {
      long seen = bits.compareAndExchange(i, old, old & ~mask);
      if (seen == old) {
        return;
      }
      old = seen;
    }
  }

  /** The first set bit at or after {@code from}, or -1. */
  private static int nextSetBit(AtomicLongArray bits, int from) {
    int i = from >>> 6;
    if (i >= bits.length()) {
      return -1;
    }
    long word = bits.get(i) & (-1L << from);
    while (true) {
      if (word != 0) {
        return (i << 6) + Long.numberOfTrailingZeros(word);
      }
      if (++i == bits.length()) {
        return -1;
      }
      word = bits.get(i);
    }
  }

  @Override
  public void onStart(ReportingContext ctx) {
    for (int i = 0; i < zones.size(); i++) {
      Zone z = zones.get(i);
      AtomicLongArray bits = bitmaps.get(i);
      FreePageNotifier hook =
          new FreePageNotifier() {
            @Override
            public void onFree(Zone zone, int freedOrder) {
              // the free path calls the positional form below
            }

            @Override
            public void onFree(Zone zone, int pfn, int freedOrder) {
              // Hildenbrand's "single hook to queue pages": remember every chunk the merged
              // block covers, unless the pass itself re-frees it inside an isolation call
              if (freedOrder >= order && quiet != Thread.currentThread()) {
                int end = pfn + (1 << freedOrder);
                for (int p = pfn; p < end; p += 1 << order) {
                  setBit(bits, chunkOf(zone, p));
                }
                ctx.request();
              }
            }
          };
      ZoneNotifiers.install(z, hook);
    }
  }

  @Override
  public void onClose() {
    ZoneNotifiers.removeAll(zones);
  }

  /** One walk of every zone's candidates; the first failed report ends it. */
  @Override
  public int doWork(ReportingContext ctx) {
    long before = ctx.metrics().reportedPages();
    for (int i = 0; i < zones.size(); i++) {
      if (!processZone(ctx, zones.get(i), bitmaps.get(i))) {
        break;
      }
    }
    return (int) Math.min(Integer.MAX_VALUE, ctx.metrics().reportedPages() - before);
  }

  /**
   * Walks a zone's candidate chunks upwards: check, isolate, test, take; reports full batches.
   * Every chunk isolated here is un-isolated before it returns.
   *
   * @return false if a report failed
   */
  private boolean processZone(ReportingContext ctx, Zone zone, AtomicLongArray bits) {
    int n = 0;
    nrIsolated = 0;
    boolean ok = true;
    try {
      for (int bit = nextSetBit(bits, 0); bit >= 0; bit = nextSetBit(bits, bit + 1)) {
        int start = pfnOfChunk(zone, bit);
        int end = start + (1 << order);
        if (start < zone.startPfn() || end > zone.endPfn()) {
          clearBit(bits, bit); // a chunk straddling the zone's edge is never wholly free
          continue;
        }
        // 1. lockless: not free? done (a later free sets the bit again)
        if (!looksFree(zone, start, end)) {
          clearBit(bits, bit);
          continue;
        }
        // 2. isolate; -EBUSY: another isolation user, or an unmovable page; try again later
        if (isolate(start, end) != 0) {
          ctx.metrics().isolationConflict();
          continue;
        }
        // 3a. a pcp page, a block another reporter holds, or an allocation won the race
        if (isolation.testPagesIsolated(start, end, PageIsolation.Mode.OTHER) != 0) {
          ctx.metrics().isolationTestFailed();
          undo(start, end);
          continue;
        }
        // 3b. take the chunk's free buddies off the ISOLATE lists, all into one batch so that
        // putting one back cannot merge it with a sibling still waiting to be taken
        clearBit(bits, bit);
        zone.lock.lock();
        try {
          int count = unreportedBuddies(start, end);
          if (count == 0) {
            undo(start, end); // everything in it is already reported
            continue;
          }
          if (n + count > capacity) {
            ok = reportAndReturnLocked(ctx, zone, bits, n);
            n = 0;
            if (!ok) {
              undo(start, end);
              setBit(bits, bit);
              return false;
            }
          }
          isolatedChunks[nrIsolated++] = start;
          for (int pfn = start; pfn < end; pfn += 1 << mm.order(pfn)) {
            if (mm.kind(pfn) == MemMap.K_BUDDY && !mm.isReported(pfn)) {
              zone.isolateFreePage(pfn, mm.order(pfn)); // isolated: no watermark check
              batchPfns[n] = pfn;
              batchOrders[n] = mm.order(pfn);
              n++;
            }
          }
        } finally {
          zone.lock.unlock();
        }
      }
      if (n > 0) {
        zone.lock.lock();
        try {
          ok = reportAndReturnLocked(ctx, zone, bits, n);
        } finally {
          zone.lock.unlock();
        }
      }
      return ok;
    } finally {
      // never leave a pageblock isolated: also when the sink or the allocator threw
      undoIsolatedChunks();
    }
  }

  /**
   * Counts the unreported free buddies of an isolated chunk that passed the test, so every pfn of
   * it lies in a free buddy. Zone lock held.
   */
  private int unreportedBuddies(int start, int end) {
    int count = 0;
    for (int pfn = start; pfn < end; pfn += 1 << mm.order(pfn)) {
      if (mm.kind(pfn) != MemMap.K_BUDDY) {
        throw new IllegalStateException(
            NAME + ": pfn " + pfn + " of an isolated, tested chunk is not a free buddy");
      }
      if (!mm.isReported(pfn)) {
        count++;
      }
    }
    return count;
  }

  /**
   * The lockless "is it free" check: every page of [start, end) lies in a block with no user (a
   * free buddy, a pcp block, a block taken off the lists), read without the zone lock. A racy
   * answer only costs an isolation attempt; the test under the lock decides.
   */
  private boolean looksFree(Zone zone, int start, int end) {
    int pfn = start;
    int maxOrder = geo.maxPageOrder();
    if (!isUnusedHead(mm.kind(pfn))) {
      // inside a larger unused block that starts before the chunk?
      int head = -1;
      for (int o = order + 1; o <= maxOrder && head < 0; o++) {
        int h = start & -(1 << o);
        if (h < zone.startPfn()) {
          break;
        }
        int ho = mm.order(h);
        if (isUnusedHead(mm.kind(h)) && ho >= o && ho <= maxOrder) {
          head = h;
        }
      }
      if (head < 0) {
        return false;
      }
      pfn = head;
    }
    while (pfn < end) {
      int o = mm.order(pfn);
      if (!isUnusedHead(mm.kind(pfn)) || o < 0 || o > maxOrder) {
        return false;
      }
      pfn += 1 << o;
    }
    return true;
  }

  private static boolean isUnusedHead(int kind) {
    return kind == MemMap.K_BUDDY || kind == MemMap.K_PCP || kind == MemMap.K_TAKEN;
  }

  private int isolate(int start, int end) {
    quiet = Thread.currentThread();
    try {
      return isolation.startIsolatePageRange(cpu, start, end, PageIsolation.Mode.OTHER);
    } finally {
      quiet = null;
    }
  }

  private void undo(int start, int end) {
    quiet = Thread.currentThread();
    try {
      isolation.undoIsolatePageRange(start, end);
    } finally {
      quiet = null;
    }
  }

  /** Un-isolates the chunks of the current batch. */
  private void undoIsolatedChunks() {
    for (int i = 0; i < nrIsolated; i++) {
      int start = isolatedChunks[i];
      undo(start, start + (1 << order));
    }
    nrIsolated = 0;
  }

  /**
   * Reports batch entries [0, n) with the zone lock dropped, puts them back on the ISOLATE lists
   * and un-isolates the batch's chunks. Zone lock held on entry and on return.
   *
   * @return whether the host acknowledged the batch
   */
  private boolean reportAndReturnLocked(
      ReportingContext ctx, Zone zone, AtomicLongArray bits, int n) {
    boolean ok = false;
    zone.lock.unlock();
    try {
      ok = report(ctx, n);
    } finally {
      zone.lock.lock();
      for (int i = 0; i < n; i++) {
        int pfn = (int) batchPfns[i];
        int o = batchOrders[i];
        // the pageblock's type now: ISOLATE, so the block cannot merge out of its chunk
        zone.putbackIsolatedPage(pfn, o, mm.getPfnblockMigratetype(pfn));
        if (ok) {
          zone.setPageReported(pfn, o);
        } else {
          setBit(bits, chunkOf(zone, pfn));
        }
      }
      // undo_isolate_page_range(): the blocks may merge with their free neighbours again
      undoIsolatedChunks();
    }
    return ok;
  }

  private boolean report(ReportingContext ctx, int n) {
    try {
      ctx.sink().report(batchPfns, batchOrders, n);
    } catch (ReportException e) {
      ctx.metrics().batchFailed();
      LOG.warn("{}: batch of {} blocks not reported: {}", NAME, n, e.getMessage());
      return false;
    } catch (RuntimeException e) {
      ctx.metrics().batchFailed();
      LOG.warn("{}: batch of {} blocks not reported: sink failed", NAME, n, e);
      return false;
    }
    long pages = 0;
    for (int i = 0; i < n; i++) {
      pages += 1L << batchOrders[i];
    }
    ctx.metrics().batchReported(n, pages, pages * geo.pageSize());
    return true;
  }

  @Override
  public String toString() {
    return NAME + "(order " + order + ", capacity " + capacity + ", cpu " + cpu + ")";
  }
}
