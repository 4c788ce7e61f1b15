package io.hintlab.guest.reporting;

import io.hintlab.guest.mm.FreePageNotifier;
import io.hintlab.guest.mm.Geometry;
import io.hintlab.guest.mm.MemMap;
import io.hintlab.guest.mm.MigrateType;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.Zone;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code page-reporting}: Linux free page reporting as merged in v5.7 and placed at the list tail
 * since v5.10 (mm/page_reporting.c, v6.16/6.17 logic), followed function by function.
 *
 * <ul>
 *   <li><b>Trigger</b> ({@code page_reporting_notify_free()}): every zone gets a free-page
 *       notifier; a free whose block, after merging, is of the reporting order or above requests a
 *       pass. It runs under the zone lock and only flips the agent's state.
 *   <li><b>Zone</b> ({@code page_reporting_process_zone()}): a zone is skipped unless its free
 *       pages exceed the low watermark plus {@code capacity << order}. Lists are walked from the
 *       reporting order up to MAX_PAGE_ORDER, each migratetype but MIGRATE_ISOLATE (so CMA and
 *       HIGHATOMIC lists are reported too), lowest first; one batch fills across lists; what is
 *       left in it at the end of the zone is reported then.
 *   <li><b>List</b> ({@code page_reporting_cycle()}): under the zone lock, with a budget of {@code
 *       DIV_ROUND_UP(nr_free[order], capacity * budgetDivisor)} report calls (+1), skip blocks
 *       already reported, take each other block with {@code __isolate_free_page()} (a watermark
 *       refusal ends the list), and when the batch is full rotate the list to the next unreported
 *       block, drop the lock, report, retake the lock and drain.
 *   <li><b>Drain</b> ({@code page_reporting_drain()}): every block goes back to the tail of the
 *       list of its pageblock's type at drain time without a notification; it is marked reported
 *       only if the report succeeded and it did not merge on the way back.
 *   <li><b>Errors</b>: a failed report puts its blocks back unreported and ends the pass (all
 *       zones), as the kernel's {@code err} path does; no rerun is requested for it.
 * </ul>
 *
 * <p>Options used: order, capacity, budget divisor (the delay is the agent's); batch size is not
 * used.
 *
 * <p><b>Note:</b> {@link #doWork} runs only on the reporting thread; the batch arrays are its own.
 * The notifier runs on allocating threads under their zone lock.
 */
public final class PageReportingStrategy implements ReportingStrategy {
  /** The registry name. */
  public static final String NAME = "page-reporting";

  private static final Logger LOG = LoggerFactory.getLogger(PageReportingStrategy.class);

  private final PageAllocator allocator;
  private final MemMap mm;
  private final List<Zone> zones;
  private final int reportingOrder;
  private final int maxOrder;
  private final int capacity;
  private final int budgetDivisor;
  private final long pageSize;

  // The scatterlist: entries are filled from the end (sgl[--offset]) as the kernel does, so a
  // batch is [offset, capacity) and lists its blocks in the reverse order of isolation.
  private final long[] sgPfns;
  private final int[] sgOrders;
  private int offset;

  /**
   * Creates the strategy for an allocator.
   *
   * @param allocator the allocator
   * @param options order ({@link ReportingOptions#ORDER_UNSPECIFIED} means pageblock_order),
   *     capacity and budget divisor are used
   * @throws IllegalArgumentException if the order is above the geometry's MAX_PAGE_ORDER
   */
  public PageReportingStrategy(PageAllocator allocator, ReportingOptions options) {
    Geometry geo = allocator.geometry();
    int order = options.resolveOrder(geo.pageblockOrder(), 0, geo.maxPageOrder());
    this.allocator = allocator;
    this.mm = allocator.memMap();
    this.zones = allocator.zones();
    this.reportingOrder = order;
    this.maxOrder = geo.maxPageOrder();
    this.capacity = options.capacity();
    this.budgetDivisor = options.budgetDivisor();
    this.pageSize = geo.pageSize();
    this.sgPfns = new long[capacity];
    this.sgOrders = new int[capacity];
    this.offset = capacity;
  }

  @Override
  public String name() {
    return NAME;
  }

  /** The lowest order reported (page_reporting_order). */
  public int order() {
    return reportingOrder;
  }

  /** Blocks per report call. */
  public int capacity() {
    return capacity;
  }

  /** The budget divisor (0: no budget). */
  public int budgetDivisor() {
    return budgetDivisor;
  }

  /**
   * The per-list budget of report calls for a free area holding {@code nrFree} blocks: {@code
   * DIV_ROUND_UP(nr_free, capacity * budgetDivisor)}. A list may see this many calls plus one, the
   * extra one for blocks left in the batch by the previous list; a divisor of 0 means no budget.
   *
   * @param nrFree free_area[order].nr_free (blocks of that order on every migratetype's list)
   * @return the budget
   */
  public long budget(long nrFree) {
    if (budgetDivisor == 0) {
      return Long.MAX_VALUE;
    }
    long per = (long) capacity * budgetDivisor;
    return (nrFree + per - 1) / per;
  }

  // ---------------------------------------------------------------- registration

  @Override
  public void onStart(ReportingContext ctx) {
    int order = reportingOrder;
    // page_reporting_notify_free(): only flips the agent's state; runs under the zone lock
    FreePageNotifier notifier =
        (zone, freedOrder) -> {
          if (freedOrder >= order) {
            ctx.request();
          }
        };
    ZoneNotifiers.installAll(zones, notifier);
  }

  @Override
  public void onClose() {
    ZoneNotifiers.removeAll(zones);
  }

  // ---------------------------------------------------------------- page_reporting_process

  /**
   * One pass over every zone (the body of page_reporting_process()); the first failed report ends
   * it.
   */
  @Override
  public int doWork(ReportingContext ctx) {
    long before = ctx.metrics().reportedPages();
    for (Zone zone : zones) {
      if (!processZone(ctx, zone)) {
        break;
      }
    }
    return (int) Math.min(Integer.MAX_VALUE, ctx.metrics().reportedPages() - before);
  }

  /**
   * page_reporting_process_zone().
   *
   * @return false if a report failed (the pass ends)
   */
  private boolean processZone(ReportingContext ctx, Zone zone) {
    offset = capacity;
    // Generate minimum watermark to be able to guarantee progress
    long watermark = zone.wmarkPages(Zone.WMARK_LOW) + ((long) capacity << reportingOrder);
    // Cancel request if insufficient free memory (read without the lock, as the kernel does)
    if (!zone.watermarkOkCma(watermark)) {
      ctx.metrics().zoneBelowGate();
      return true;
    }
    // Process each free list starting from lowest order/mt
    for (int order = reportingOrder; order <= maxOrder; order++) {
      for (int mt = 0; mt < MigrateType.TYPES; mt++) {
        // We do not pull pages from the isolate free list
        if (mt == MigrateType.ISOLATE) {
          continue;
        }
        if (!reportingCycle(ctx, zone, order, mt)) {
          return false;
        }
      }
    }
    // report the leftover pages before going idle
    int leftover = capacity - offset;
    if (leftover == 0) {
      return true;
    }
    // the kernel passes &sgl[offset]; the sink takes entries from 0, so move them down in order
    System.arraycopy(sgPfns, offset, sgPfns, 0, leftover);
    System.arraycopy(sgOrders, offset, sgOrders, 0, leftover);
    offset = capacity;
    boolean reported = false;
    try {
      reported = report(ctx, leftover);
    } finally {
      // flush any remaining pages out from the last report
      zone.lock.lock();
      try {
        drain(zone, leftover, reported);
      } finally {
        zone.lock.unlock();
      }
    }
    return reported;
  }

  /**
   * page_reporting_cycle(): the fill / report / drain cycle over one free list, until the list
   * holds no unreported block, the budget is spent, a block is refused on the watermark or a report
   * fails.
   *
   * @return false if a report failed
   */
  private boolean reportingCycle(ReportingContext ctx, Zone zone, int order, int mt) {
    // Perform early check, if free area is empty there is nothing to process (racy, lockless)
    if (zone.freeListFirst(order, mt) == MemMap.NIL) {
      return true;
    }
    boolean ok = true;
    zone.lock.lock();
    try {
      // Limit how many calls we will make to the reporting device for this list, so that no
      // list is processed for too long: a sixteenth of the current list plus one call for blocks
      // left from the previous list; with a pass every 2 s that reports an idle system in about
      // 30 s. nr_free counts the blocks of this order on every migratetype's list.
      long budget = budget(zone.nrFree(order));
      int page = zone.freeListFirst(order, mt);
      int next = MemMap.NIL;
      // list_for_each_entry_safe(): next is taken before the body may unlink page
      while (page != MemMap.NIL) {
        next = zone.freeListNext(page);
        // We are going to skip over the reported pages
        if (mm.isReported(page)) {
          page = next;
          continue;
        }
        // Budget spent: ask for another pass and leave this list
        if (budget < 0) {
          ctx.metrics().budgetExhausted();
          ctx.request();
          next = page;
          break;
        }
        // Attempt to pull the block from the list and place it in the batch
        if (offset > 0) {
          if (zone.isolateFreePage(page, order) == 0) {
            ctx.metrics().watermarkRefused();
            next = page;
            break;
          }
          --offset;
          sgPfns[offset] = page;
          sgOrders[offset] = order;
          page = next;
          continue;
        }
        // Make the first non-reported block the new head before we release the zone lock
        zone.rotateFreeListTo(page);
        budget--;
        if (!reportAndDrainLocked(ctx, zone)) {
          ok = false;
        }
        // Reset next to the first entry: the old next isn't valid since we dropped the lock
        next = zone.freeListFirst(order, mt);
        // exit on error
        if (!ok) {
          break;
        }
        page = next;
      }
      // Rotate any leftover blocks to the head of the free list
      if (next != MemMap.NIL && next != zone.freeListFirst(order, mt)) {
        zone.rotateFreeListTo(next);
      }
    } finally {
      zone.lock.unlock();
    }
    return ok;
  }

  /**
   * The full-batch report of page_reporting_cycle(): zone lock held on entry and on return, dropped
   * while the host holds the batch.
   *
   * @return whether the host acknowledged the batch
   */
  private boolean reportAndDrainLocked(ReportingContext ctx, Zone zone) {
    boolean reported = false;
    // Locking: release zone->lock before waiting on report processing; the batch's blocks are
    // off the free lists (TAKEN), so nobody else can touch them meanwhile
    zone.lock.unlock();
    try {
      reported = report(ctx, capacity);
    } finally {
      // reset offset since the full batch was reported
      offset = capacity;
      // Locking: reacquire zone->lock and resume processing; flush the batch back first
      zone.lock.lock();
      drain(zone, capacity, reported);
    }
    return reported;
  }

  /**
   * prdev->report(): hands entries [0, n) of the batch to the sink, without the zone lock. Any
   * failure of the sink means the batch was not reported.
   *
   * @return whether the host acknowledged the batch
   */
  private boolean report(ReportingContext ctx, int n) {
    try {
      ctx.sink().report(sgPfns, sgOrders, n);
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
      pages += 1L << sgOrders[i];
    }
    ctx.metrics().batchReported(n, pages, pages * pageSize);
    return true;
  }

  /**
   * page_reporting_drain(): puts entries [0, n) of the batch back on the free lists. Zone lock
   * held.
   */
  private void drain(Zone zone, int n, boolean reported) {
    for (int i = 0; i < n; i++) {
      int pfn = (int) sgPfns[i];
      int order = sgOrders[i];
      // the pageblock's type now: it may have been isolated while the lock was dropped
      int mt = mm.getPfnblockMigratetype(pfn);
      // __putback_isolated_page(): to the tail, may merge, no notification
      zone.putbackIsolatedPage(pfn, order, mt);
      // A block that merged with its buddy is a new, larger, unreported block: it will be
      // reported when the pass makes its way up to that order
      if (reported) {
        zone.setPageReported(pfn, order);
      }
    }
  }

  @Override
  public String toString() {
    return NAME
        + "(order "
        + reportingOrder
        + ", capacity "
        + capacity
        + ", budget 1/"
        + budgetDivisor
        + ", "
        + allocator.zones().size()
        + " zones)";
  }
}
