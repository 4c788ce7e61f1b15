package io.hintlab.guest.reporting;

import io.hintlab.guest.mm.FreePageNotifier;
import io.hintlab.guest.mm.Geometry;
import io.hintlab.guest.mm.MemMap;
import io.hintlab.guest.mm.MigrateType;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.Zone;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code free-list-walk}: the {@code report_unused_page_block()} iterator of Wei Wang's free page
 * hinting series ("[PATCH v12 6/8] mm: support reporting free page blocks", July 2017, with
 * Michael S. Tsirkin's review). Blocks are hinted <em>without</em> being taken off the free lists:
 * the host is told, the pages stay free and allocatable.
 *
 * <ul>
 *   <li><b>Step</b> ({@code report_unused_page_block(zone, order, migratetype, &page)}): take the
 *       zone lock, pick one block of {@code free_area[order].free_list[migratetype]} from the
 *       caller's cursor, drop the lock and return it. The caller hints the block while the lists
 *       go on changing; the only guarantee is the patch's: "the page was on the free list at some
 *       point in time after the function has been invoked".
 *   <li><b>Original cursor</b> ({@link ReportingOptions.Cursor#ORIGINAL}): the cursor is the block
 *       last offered. Empty list: end. No cursor: the list head. Cursor no longer a free block of
 *       this list's order: the list head again ("offer the first page block on the free list").
 *       Cursor the list tail: end. Else the block after it. Tsirkin: "This just might keep giving
 *       you same block over and over again ... we might never make progress beyond the 1st 2
 *       blocks". The patch only tests {@code PageBuddy && order != page_order}; a cursor that was
 *       allocated or moved to another migratetype's list would make it follow a stale {@code lru}
 *       pointer, which the model replaces by the same restart at the head.
 *   <li><b>Progressing cursor</b> ({@link ReportingOptions.Cursor#PROGRESS}): the cursor is the
 *       pfn of the block last offered, and the next block is the list's block with the lowest pfn
 *       above it, found by scanning the order-aligned pfns of the zone under the lock (a free block
 *       of order k starts at a multiple of 2^k). The cursor only moves up, so a walk of a list
 *       offers at most {@code spanned >> order} blocks, no block twice, and every block that stays
 *       on the list for the whole walk exactly once, whatever happens to the lists in between.
 *   <li><b>Pass</b>: each zone, orders from MAX_PAGE_ORDER down to the reporting order (largest
 *       first), each migratetype but MIGRATE_ISOLATE; offered blocks are hinted {@code capacity}
 *       at a time through the report sink without the zone lock, and at the end of each list. A
 *       pass is requested by a free that reaches the reporting order (the agent's shape; the 2017
 *       driver walked on the host's request) and once at start.
 *   <li><b>Guard</b>: the kernel loop had no bound. A list walk that offers more than {@link
 *       #STEP_LIMIT_FACTOR} times the zone's positions of that order must have gone back; it is
 *       stopped and counted in {@link ReportingMetrics#walkStepLimits()}. Restarts at the head are
 *       counted in {@link ReportingMetrics#walkRestarts()}, blocks offered twice in one list walk
 *       in {@link ReportingMetrics#reoffers()}.
 *   <li><b>Errors</b>: nothing leaves the free lists, so a failed hint loses nothing; it ends the
 *       pass. Blocks are never marked PageReported (they were never isolated).
 * </ul>
 *
 * <p><b>Free page hinting</b> ({@link HintCommandTarget}): in Wei Wang's series the walk was the
 * guest side of free page hinting for live migration, run when the host asks. Given a {@link
 * HintSink} ({@link #setHintSink}, before the agent starts) the walk follows the device's command
 * ids instead of frees, in the shape of {@code report_free_page_func()}:
 *
 * <table>
 *   <caption>What a pass does under command ids</caption>
 *   <tr><th>latest received id</th><th>action</th></tr>
 *   <tr><td>STOP (0)</td><td>nothing</td></tr>
 *   <tr><td>DONE (1)</td><td>nothing: the walk holds no pages, so there is nothing to give
 *       back</td></tr>
 *   <tr><td>the active id</td><td>nothing (a stale id: that walk ran already)</td></tr>
 *   <tr><td>any other id</td><td>it becomes the active id; {@code send_cmd_id_start()}, the walk
 *       with each batch hinted under the id, ended early when another id is received or the
 *       device answers with one, then {@code send_cmd_id_stop()}</td></tr>
 * </table>
 *
 * The blocks stay on the free lists: that is the point (nothing held, nothing dirtied by the
 * hinting itself); a block allocated after its hint is written, and the migration's dirty log
 * sends it again. A failed call ends the walk without a STOP. Hint calls count in {@link
 * ReportingMetrics#hintRounds()} and the hinted counters, not as reported.
 *
 * <p>Options used: order, capacity (blocks per report or hint call), cursor. A host that discards
 * hinted ranges races with the guest's reuse of them: that is the design's documented hazard ("it
 * is not safe for caller to use any pages on the returned block or to discard data that is put
 * there after the function returns").
 *
 * <p><b>Note:</b> {@link #doWork} runs only on the reporting thread; the notifier runs on
 * allocating threads under their zone lock; {@link #onCommandId} on the driver's thread, where it
 * only records the id and requests a pass.
 */
public final class FreeListWalkStrategy implements ReportingStrategy, HintCommandTarget {
  /** The registry name. */
  public static final String NAME = "free-list-walk";

  /** A list walk stops after this many times the zone's block positions of its order. */
  public static final int STEP_LIMIT_FACTOR = 4;

  private static final int STOP = HintAllocHoldStrategy.VIRTIO_BALLOON_CMD_ID_STOP;
  private static final int DONE = HintAllocHoldStrategy.VIRTIO_BALLOON_CMD_ID_DONE;

  private static final Logger LOG = LoggerFactory.getLogger(FreeListWalkStrategy.class);

  private final MemMap mm;
  private final List<Zone> zones;
  private final int reportingOrder;
  private final int maxOrder;
  private final int capacity;
  private final ReportingOptions.Cursor cursor;
  private final long pageSize;
  private final long[] batchPfns;
  private final int[] batchOrders;
  private int batched;
  // cmd_id_received_cache: written by the driver's thread, read by the pass
  private final AtomicInteger cmdIdReceived = new AtomicInteger(STOP);
  // cmd_id_active: written only by the pass
  private volatile int cmdIdActive = STOP;
  private volatile HintSink hintSink;
  private volatile ReportingContext context;
  private volatile boolean started;
  /** The id of the walk in progress under the hint queue; STOP when reporting (pass only). */
  private int walkId = STOP;
  /** Whether a hint call of the walk in progress failed (pass only). */
  private boolean hintFailed;

  /**
   * Creates the strategy for an allocator.
   *
   * @param allocator the allocator
   * @param options order ({@link ReportingOptions#ORDER_UNSPECIFIED} means pageblock_order),
   *     capacity and cursor are used
   * @throws IllegalArgumentException if the order is above the geometry's MAX_PAGE_ORDER
   */
  public FreeListWalkStrategy(PageAllocator allocator, ReportingOptions options) {
    Geometry geo = allocator.geometry();
    int order = options.resolveOrder(geo.pageblockOrder(), 0, geo.maxPageOrder());
    this.mm = allocator.memMap();
    this.zones = allocator.zones();
    this.reportingOrder = order;
    this.maxOrder = geo.maxPageOrder();
    this.capacity = options.capacity();
    this.cursor = options.cursor();
    this.pageSize = geo.pageSize();
    this.batchPfns = new long[capacity];
    this.batchOrders = new int[capacity];
  }

  @Override
  public String name() {
    return NAME;
  }

  /** The lowest order hinted. */
  public int order() {
    return reportingOrder;
  }

  /** The walk cursor in use. */
  public ReportingOptions.Cursor cursor() {
    return cursor;
  }

  /** Whether the walk hints through the free page hint queue (a hint sink was set). */
  public boolean hintsOnCommand() {
    return hintSink != null;
  }

  /** The latest command id received ({@code cmd_id_received_cache}). */
  public int receivedCmdId() {
    return cmdIdReceived.get();
  }

  /** The id of the last walk started under the hint queue ({@code cmd_id_active}). */
  public int activeCmdId() {
    return cmdIdActive;
  }

  /**
   * Makes the walk follow the device's command ids and hint through {@code sink} instead of
   * reporting through the agent's sink. Only before the agent starts the strategy.
   *
   * @throws IllegalArgumentException if sink is null
   * @throws IllegalStateException if a sink was set already or the strategy was started
   */
  @Override
  public void setHintSink(HintSink sink) {
    if (sink == null) {
      throw new IllegalArgumentException("hint sink must not be null");
    }
    synchronized (this) {
      if (hintSink != null) {
        throw new IllegalStateException(NAME + ": hint sink already set");
      }
      if (started) {
        throw new IllegalStateException(
            NAME + ": setHintSink after the agent started; choose the queue before start");
      }
      hintSink = sink;
    }
  }

  /** virtballoon_changed(): note the id and queue the walk; ignored when reporting. */
  @Override
  public void onCommandId(int cmdId) {
    cmdIdReceived.set(cmdId);
    ReportingContext c = context;
    if (c != null && hintSink != null) {
      c.request();
    }
  }

  @Override
  public void onStart(ReportingContext ctx) {
    synchronized (this) {
      started = true;
    }
    context = ctx;
    if (hintSink != null) {
      return; // the device's command ids start walks, not frees
    }
    int order = reportingOrder;
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
    if (hintSink == null) {
      ZoneNotifiers.removeAll(zones);
    }
  }

  /**
   * Reporting: one walk of every list of order &gt;= the reporting order, the first failed
   * report ends it. Hinting: what the latest command id asks for (see the class table).
   */
  @Override
  public int doWork(ReportingContext ctx) {
    HintSink s = hintSink;
    if (s != null) {
      return hintOnCommand(ctx, s);
    }
    long before = ctx.metrics().reportedPages();
    walk(ctx);
    return (int) Math.min(Integer.MAX_VALUE, ctx.metrics().reportedPages() - before);
  }

  /** report_free_page_func() around the walk: start, the walk's hints, stop. */
  private int hintOnCommand(ReportingContext ctx, HintSink s) {
    int id = cmdIdReceived.get();
    if (id == STOP || id == DONE || id == cmdIdActive) {
      return 0;
    }
    long before = ctx.metrics().hintedPages();
    // send_cmd_id_start() makes the received id the active one before it queues the outbuf
    cmdIdActive = id;
    int answer;
    try {
      answer = s.start(id);
    } catch (ReportException | RuntimeException e) {
      hintFailed(ctx, "start of walk " + id, e);
      return 0;
    }
    ctx.metrics().hintRoundStarted();
    walkId = id;
    hintFailed = false;
    try {
      if (answer == id) {
        walk(ctx);
      }
    } finally {
      walkId = STOP;
    }
    if (!hintFailed) {
      // send_cmd_id_stop(): also after the device moved on (a stale STOP is ignored by QEMU)
      try {
        s.stop();
      } catch (ReportException | RuntimeException e) {
        hintFailed(ctx, "stop of walk " + id, e);
      }
    }
    return (int) Math.min(Integer.MAX_VALUE, ctx.metrics().hintedPages() - before);
  }

  /** Every list of order &gt;= the reporting order until one ends the walk. */
  private void walk(ReportingContext ctx) {
    batched = 0;
    outer:
    for (Zone zone : zones) {
      for (int order = maxOrder; order >= reportingOrder; order--) {
        for (int mt = 0; mt < MigrateType.TYPES; mt++) {
          // the isolate lists belong to whoever isolated the pageblock
          if (mt == MigrateType.ISOLATE) {
            continue;
          }
          if (!walkList(ctx, zone, order, mt)) {
            break outer;
          }
        }
      }
    }
  }

  /**
   * Under the hint queue, whether the walk's id is still the latest received: a STOP, DONE or
   * new id ends it ({@code cmd_id_active != cmd_id_received_cache} in send_free_pages()).
   */
  private boolean idCurrent() {
    return walkId == STOP || cmdIdReceived.get() == walkId;
  }

  /**
   * The driver's loop around report_unused_page_block() for one list: step, hint, step again
   * from the block just offered, until the iterator says the list is done.
   *
   * @return false if a hint failed
   */
  private boolean walkList(ReportingContext ctx, Zone zone, int order, int mt) {
    int base = zone.startPfn();
    long positions = Math.max(1, (long) zone.spannedPages() >> order);
    long limit = STEP_LIMIT_FACTOR * positions;
    BitSet offered = new BitSet();
    int page = MemMap.NIL;
    long steps = 0;
    while (true) {
      if (!idCurrent()) {
        batched = 0; // not sent: the device moved on, and nothing was taken off a list
        return false;
      }
      page =
          cursor == ReportingOptions.Cursor.ORIGINAL
              ? stepOriginal(ctx, zone, order, mt, page)
              : stepProgress(zone, order, mt, page);
      if (page == MemMap.NIL) {
        break;
      }
      int index = (page - base) >> order;
      if (offered.get(index)) {
        ctx.metrics().reoffered();
      } else {
        offered.set(index);
      }
      batchPfns[batched] = page;
      batchOrders[batched] = order;
      batched++;
      if (batched == capacity && !flush(ctx)) {
        return false;
      }
      if (++steps >= limit) {
        ctx.metrics().walkStepLimited();
        LOG.debug("{}: walk of order {} list {} stopped after {} steps", NAME, order, mt, steps);
        break;
      }
    }
    return flush(ctx);
  }

  /**
   * report_unused_page_block() as posted in v12: one block from the cursor under the zone lock.
   *
   * @return the block to offer, or NIL when the list is done
   */
  private int stepOriginal(ReportingContext ctx, Zone zone, int order, int mt, int page) {
    zone.lock.lock();
    try {
      int first = zone.freeListFirst(order, mt);
      // list_empty(this_list): *page = NULL, ret = 1
      if (first == MemMap.NIL) {
        return MemMap.NIL;
      }
      // The caller is asking for the first free page block on the list
      if (page == MemMap.NIL) {
        return first;
      }
      // The page block passed from the caller is not on this free list anymore (e.g. a 1MB
      // free page block has been split): offer the first page block on the list
      if (!onList(page, order, mt)) {
        ctx.metrics().walkRestarted();
        return first;
      }
      // (*page)->lru.next == this_list: the last block; otherwise list_next_entry()
      return zone.freeListNext(page);
    } finally {
      zone.lock.unlock();
    }
  }

  /**
   * The progressing step: the list's block with the lowest pfn above the cursor, under the zone
   * lock.
   *
   * @return the block to offer, or NIL when no block of the list lies above the cursor
   */
  private int stepProgress(Zone zone, int order, int mt, int page) {
    int size = 1 << order;
    int from =
        page == MemMap.NIL ? (zone.startPfn() + size - 1) & -size : page + size;
    zone.lock.lock();
    try {
      for (int p = from; p < zone.endPfn(); p += size) {
        if (onList(p, order, mt)) {
          return p;
        }
      }
      return MemMap.NIL;
    } finally {
      zone.lock.unlock();
    }
  }

  /** Whether pfn heads a free block of this order on free_list[mt] (zone lock held). */
  private boolean onList(int pfn, int order, int mt) {
    return mm.isBuddy(pfn) && mm.order(pfn) == order && mm.aux(pfn) == mt;
  }

  /**
   * Sends the batched blocks without the zone lock: reported through the agent's sink, or hinted
   * under the walk's id. Nothing was taken off a list, so nothing is put back, whatever the
   * outcome.
   *
   * @return whether the walk goes on: the host acknowledged the batch, or took the hint and
   *     still names the walk's id (true when the batch was empty)
   */
  private boolean flush(ReportingContext ctx) {
    int n = batched;
    if (n == 0) {
      return true;
    }
    batched = 0;
    return walkId == STOP ? report(ctx, n) : hint(ctx, n);
  }

  /** The blocks through the agent's report sink. */
  private boolean report(ReportingContext ctx, int n) {
    try {
      ctx.sink().report(batchPfns, batchOrders, n);
    } catch (ReportException e) {
      ctx.metrics().batchFailed();
      LOG.warn("{}: hint of {} blocks not acknowledged: {}", NAME, n, e.getMessage());
      return false;
    } catch (RuntimeException e) {
      ctx.metrics().batchFailed();
      LOG.warn("{}: hint of {} blocks not acknowledged: sink failed", NAME, n, e);
      return false;
    }
    long pages = 0;
    for (int i = 0; i < n; i++) {
      pages += 1L << batchOrders[i];
    }
    ctx.metrics().batchReported(n, pages, pages * pageSize);
    return true;
  }

  /** The blocks through the free page hint queue under the walk's id. */
  private boolean hint(ReportingContext ctx, int n) {
    int answer;
    try {
      answer = hintSink.hint(walkId, batchPfns, batchOrders, n);
    } catch (ReportException | RuntimeException e) {
      hintFailed = true;
      hintFailed(ctx, n + " blocks of walk " + walkId, e);
      return false;
    }
    long pages = 0;
    for (int i = 0; i < n; i++) {
      pages += 1L << batchOrders[i];
    }
    ctx.metrics().batchHinted(n, pages, pages * pageSize);
    // another id in the answer: the device moved on (STOP, DONE or a new round)
    return answer == walkId;
  }

  private static void hintFailed(ReportingContext ctx, String what, Exception e) {
    ctx.metrics().batchFailed();
    LOG.warn("{}: {} not taken by the device: {}", NAME, what, e.getMessage());
  }

  @Override
  public String toString() {
    return NAME
        + "(order "
        + reportingOrder
        + ", capacity "
        + capacity
        + ", cursor "
        + cursor.name().toLowerCase(java.util.Locale.ROOT)
        + (hintSink != null ? ", hint queue" : "")
        + ")";
  }
}
