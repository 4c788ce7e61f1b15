package io.hintlab.guest.reporting;

import io.hintlab.guest.mm.FreePageNotifier;
import io.hintlab.guest.mm.Geometry;
import io.hintlab.guest.mm.MemMap;
import io.hintlab.guest.mm.MigrateType;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.Zone;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code bitmap-hinting}: Nitesh Narayan Lal's page hinting (v10, 2019): "per-zone bitmaps of
 * freed MAX_ORDER-2 pages set by a hook after buddy merging, cleared only when hinted; workqueue
 * once a threshold is met; 16 pages isolated per batch" (reference, section 6).
 *
 * <ul>
 *   <li><b>Hook</b> ({@code __free_one_page()} after {@code done_merging}, through {@link
 *       FreePageNotifier#onFree(Zone, int, int)}): a free whose merged block is of the bitmap order
 *       or above sets the bit of its head's chunk in the zone's bitmap (one bit per {@code
 *       2^order} pages) and requests a pass; the agent's delay is the threshold in time.
 *   <li><b>Pass</b>: per zone, under the zone lock, walk the set bits upwards. Each bit is
 *       cleared; if its chunk still heads a free block of the bitmap order or above that is not on
 *       an ISOLATE list and not already reported, the block is pulled out of the buddy with {@code
 *       __isolate_free_page()} (a watermark refusal keeps the bit and ends the zone) into the
 *       batch. A full batch ({@code batchSize}, 16 by default) is reported with the zone lock
 *       dropped, and after the host's acknowledgement every block goes back with {@code
 *       __putback_isolated_page()} (tail, no notification) to the list of its pageblock's type at
 *       that time, marked reported unless it merged. The last, partial batch goes at the end of
 *       the zone.
 *   <li><b>Errors</b>: a failed report puts its blocks back unreported, sets their bits again so
 *       that a later pass retries them, and ends the pass.
 * </ul>
 *
 * <p>Only blocks freed while the strategy is installed are ever hinted: memory never freed since
 * boot has no bit, as in the original design. Options used: order (the bitmap order; {@link
 * ReportingOptions#ORDER_UNSPECIFIED} means MAX_ORDER-2 of the geometry, order 9 on x86-64) and
 * batch size.
 *
 * <p><b>Note:</b> each zone's bitmap is read and written only under that zone's lock (the hook
 * runs under it on the freeing thread). {@link #doWork} runs only on the reporting thread.
 */
public final class BitmapHintingStrategy implements ReportingStrategy {
  /** The registry name. */
  public static final String NAME = "bitmap-hinting";

  private static final Logger LOG = LoggerFactory.getLogger(BitmapHintingStrategy.class);

  private final MemMap mm;
  private final List<Zone> zones;
  private final List<BitSet> bitmaps = new ArrayList<>();
  private final int bitmapOrder;
  private final int batchSize;
  private final long pageSize;
  private final long[] batchPfns;
  private final int[] batchOrders;

  /**
   * Creates the strategy for an allocator.
   *
   * @param allocator the allocator
   * @param options order (the bitmap order; unspecified means MAX_ORDER-2) and batch size are used
   * @throws IllegalArgumentException if the order is above the geometry's MAX_PAGE_ORDER
   */
  public BitmapHintingStrategy(PageAllocator allocator, ReportingOptions options) {
    Geometry geo = allocator.geometry();
    int order = options.resolveOrder(Math.max(0, geo.nrPageOrders() - 2), 0, geo.maxPageOrder());
    this.mm = allocator.memMap();
    this.zones = allocator.zones();
    this.bitmapOrder = order;
    this.batchSize = options.batchSize();
    this.pageSize = geo.pageSize();
    this.batchPfns = new long[batchSize];
    this.batchOrders = new int[batchSize];
    for (Zone z : zones) {
      bitmaps.add(new BitSet(Math.max(1, z.spannedPages() >> order)));
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  /** The bitmap order: one bit per 2^order pages, set by frees of that order or above. */
  public int order() {
    return bitmapOrder;
  }

  /** Blocks per report call. */
  public int batchSize() {
    return batchSize;
  }

  /**
   * The number of bits set in a zone's bitmap.
   *
   * @param zoneIndex the index in the allocator's populated zones
   * @return the set bits, read under the zone lock
   */
  public int pendingBits(int zoneIndex) {
    Zone z = zones.get(zoneIndex);
    z.lock.lock();
    try {
      return bitmaps.get(zoneIndex).cardinality();
    } finally {
      z.lock.unlock();
    }
  }

  private int bitOf(Zone z, int pfn) {
    return (pfn >> bitmapOrder) - (z.startPfn() >> bitmapOrder);
  }

  private int pfnOf(Zone z, int bit) {
    return (bit + (z.startPfn() >> bitmapOrder)) << bitmapOrder;
  }

  @Override
  public void onStart(ReportingContext ctx) {
    for (int i = 0; i < zones.size(); i++) {
      Zone z = zones.get(i);
      BitSet bits = bitmaps.get(i);
      int order = bitmapOrder;
      FreePageNotifier hook =
          new FreePageNotifier() {
            @Override
            public void onFree(Zone zone, int freedOrder) {
              // the free path calls the positional form below
            }

            @Override
            public void onFree(Zone zone, int pfn, int freedOrder) {
              // the hinting hook after done_merging: remember the chunk, wake the worker
              if (freedOrder >= order) {
                bits.set(bitOf(zone, pfn));
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

  /** One walk of every zone's set bits; the first failed report ends it. */
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
   * Walks a zone's set bits, pulling, reporting and returning blocks batch by batch.
   *
   * @return false if a report failed
   */
  private boolean processZone(ReportingContext ctx, Zone zone, BitSet bits) {
    int n = 0;
    zone.lock.lock();
    try {
      for (int bit = bits.nextSetBit(0); bit >= 0; bit = bits.nextSetBit(bit + 1)) {
        int pfn = pfnOf(zone, bit);
        if (!zone.spans(pfn)) {
          bits.clear(bit);
          continue;
        }
        // still free at the bitmap order or above, not isolated by someone else, not hinted yet?
        if (!mm.isBuddy(pfn)
            || mm.order(pfn) < bitmapOrder
            || mm.aux(pfn) == MigrateType.ISOLATE
            || mm.isReported(pfn)) {
          bits.clear(bit);
          continue;
        }
        int order = mm.order(pfn);
        // pull it out of the buddy; a watermark refusal keeps the bit for a later pass
        if (zone.isolateFreePage(pfn, order) == 0) {
          ctx.metrics().watermarkRefused();
          break;
        }
        bits.clear(bit);
        batchPfns[n] = pfn;
        batchOrders[n] = order;
        n++;
        if (n == batchSize) {
          boolean ok = reportAndReturnLocked(ctx, zone, bits, n);
          n = 0;
          if (!ok) {
            return false;
          }
        }
      }
      return n == 0 || reportAndReturnLocked(ctx, zone, bits, n);
    } finally {
      zone.lock.unlock();
    }
  }

  /**
   * Reports batch entries [0, n) with the zone lock dropped, then returns them to the buddy. Zone
   * lock held on entry and on return.
   *
   * @return whether the host acknowledged the batch
   */
  private boolean reportAndReturnLocked(ReportingContext ctx, Zone zone, BitSet bits, int n) {
    boolean ok = false;
    zone.lock.unlock();
    try {
      ok = report(ctx, n);
    } finally {
      zone.lock.lock();
      for (int i = 0; i < n; i++) {
        int pfn = (int) batchPfns[i];
        int order = batchOrders[i];
        // the pageblock's type now: it may have been isolated meanwhile
        zone.putbackIsolatedPage(pfn, order, mm.getPfnblockMigratetype(pfn));
        if (ok) {
          zone.setPageReported(pfn, order);
        } else {
          bits.set(bitOf(zone, pfn));
        }
      }
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
    ctx.metrics().batchReported(n, pages, pages * pageSize);
    return true;
  }

  @Override
  public String toString() {
    return NAME + "(order " + bitmapOrder + ", batch " + batchSize + ")";
  }
}
