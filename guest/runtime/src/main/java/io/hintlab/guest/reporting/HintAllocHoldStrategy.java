package io.hintlab.guest.reporting;

import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.Shrinker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code hint-alloc-hold}: the Linux free page hinting driver (VIRTIO_BALLOON_F_FREE_PAGE_HINT,
 * drivers/virtio/virtio_balloon.c, v4.20 to today). The device hands out command ids; on a new one
 * the driver allocates blocks of VIRTIO_BALLOON_HINT_BLOCK_ORDER without reclaim, hints each to the
 * device and keeps it allocated until the device says DONE, so that nothing in the guest writes to
 * hinted memory while the host may still skip it; a shrinker gives blocks back early under memory
 * pressure (and with them that guarantee).
 *
 * <p>A pass is {@code report_free_page_func()}; {@link #onCommandId} is {@code
 * virtballoon_changed()}, which records the id and queues the pass. The pass reads the latest
 * received id and compares it with the active one, the id of the last round started:
 *
 * <table>
 *   <caption>What a pass does</caption>
 *   <tr><th>latest received id</th><th>action</th></tr>
 *   <tr><td>DONE (1)</td><td>{@code return_free_pages_to_mm()}: free every held block</td></tr>
 *   <tr><td>STOP (0)</td><td>nothing; held blocks stay held</td></tr>
 *   <tr><td>the active id</td><td>nothing (that round ran already)</td></tr>
 *   <tr><td>any other id</td><td>a round: the id becomes the active one, {@code
 *       send_cmd_id_start()}, blocks until the allocation fails or a STOP, DONE or new id comes in
 *       (from the config or in the device's answer), then {@code send_cmd_id_stop()}</td></tr>
 * </table>
 *
 * <p>Blocks are allocated with exactly {@link #VIRTIO_BALLOON_FREE_PAGE_ALLOC_FLAG}, which the
 * allocator decodes like any other gfp: no reclaim flag (the slow path gives up at the min
 * watermark, before compaction and reclaim), no mobility flag (MIGRATE_UNMOVABLE, stealing movable
 * pageblocks by fallback), no zone flag (highest zone Normal, so ZONE_MOVABLE is never hinted) and
 * __GFP_NOMEMALLOC (no reserves). A round therefore takes every order-10 block above the min
 * watermarks of Normal, DMA32 and DMA.
 *
 * <p>Errors: a hint call the device does not take ({@link ReportException}, the host went away)
 * frees that call's blocks (the device never saw them) and ends the round without a STOP; blocks
 * held earlier stay held until DONE, the shrinker or close. A failed start or stop is counted and
 * logged like a failed hint call. A {@link RuntimeException} from the sink frees the call's blocks
 * and ends the pass (the agent counts it as a pass error).
 *
 * <p>Delay: the kernel queues this work with {@code queue_work()}, not {@code
 * schedule_delayed_work()}, so a pass runs as soon as the id arrives. The agent applies one delay
 * to every request; a run gives this strategy {@link #DEFAULT_DELAY} (zero) unless the user set a
 * delay ({@link ReportingStrategies#defaultDelay}). A non-zero delay is honoured and models a
 * worker that starts late: ids that arrive meanwhile merge, and only the latest counts, as in the
 * kernel when the work is still queued.
 *
 * <p>Options used: batch size (blocks per hint call, at most {@value #MAX_BATCH_SIZE}) and the
 * isolation cpu (the cpu the reporting thread allocates and frees on; it must be an index no
 * allocating thread uses, as for {@code isolate-report}; unspecified means the allocator's last
 * cpu). The order option is not used: the block order is the driver's, whatever a device reports
 * for page reporting.
 *
 * <p>Metrics: rounds ({@link ReportingMetrics#hintRounds()}), hinted blocks, pages and bytes,
 * blocks freed on DONE, returned by the shrinker and freed at close; hint calls the device took
 * count in {@link ReportingMetrics#batches()}, hint, start and stop calls it did not take in
 * {@link ReportingMetrics#failedBatches()}. Nothing counts as reported: hinted blocks are
 * allocated, not free.
 *
 * <p><b>Note:</b> {@link #onCommandId} may be called from any thread (the driver's config thread)
 * and only records the id and requests a pass. {@link #doWork} runs on the reporting thread; the
 * shrinker on allocating threads in direct reclaim; {@link #onClose} on the thread that removes the
 * device. The held blocks are shared by them under one lock ({@link HintedBlockList}).
 */
public final class HintAllocHoldStrategy implements ReportingStrategy, HintCommandTarget {
  /** The registry name. */
  public static final String NAME = "hint-alloc-hold";

  /** VIRTIO_BALLOON_CMD_ID_STOP (include/uapi/linux/virtio_balloon.h): stop, keep the blocks. */
  public static final int VIRTIO_BALLOON_CMD_ID_STOP = 0;

  /** VIRTIO_BALLOON_CMD_ID_DONE (include/uapi/linux/virtio_balloon.h): stop, free the blocks. */
  public static final int VIRTIO_BALLOON_CMD_ID_DONE = 1;

  /**
   * VIRTIO_BALLOON_FREE_PAGE_ALLOC_FLAG: {@code __GFP_NORETRY | __GFP_NOWARN | __GFP_NOMEMALLOC},
   * "no reclaim, no reserves": hinting takes only memory nobody else needs now.
   */
  public static final int VIRTIO_BALLOON_FREE_PAGE_ALLOC_FLAG =
      Gfp.__GFP_NORETRY | Gfp.__GFP_NOWARN | Gfp.__GFP_NOMEMALLOC;

  /** The delay of this strategy's passes when the user sets none: queue_work() runs at once. */
  public static final Duration DEFAULT_DELAY = Duration.ZERO;

  /**
   * The largest batch: all blocks of a hint call are on the free page virtqueue at once, whose
   * ring holds at most VIRTQUEUE_MAX_SIZE (1024) entries, one of them "reserved for cmd id".
   */
  public static final int MAX_BATCH_SIZE = ReportingOptions.MAX_CAPACITY - 1;

  private static final Logger LOG = LoggerFactory.getLogger(HintAllocHoldStrategy.class);

  /** How a round ended. */
  private enum End {
    /** The allocation failed: every block above the watermark is held. */
    ALLOC_FAILED,
    /** The config brought STOP, DONE or a new id. */
    ID_CHANGED,
    /** The device answered with another id. */
    DEVICE_MOVED_ON,
    /** The device did not take a call; no STOP follows. */
    SINK_FAILED,
    /** The device was removed; no STOP follows. */
    RELEASED
  }

  private final PageAllocator allocator;
  private final int order;
  private final int batchSize;
  private final int cpu;
  private final long pageSize;
  private final HintedBlockList held;
  private final long[] batchPfns;
  private final int[] batchOrders;
  private final Shrinker shrinker = new FreePageShrinker();
  // cmd_id_received_cache: written by the config thread, read by the pass
  private final AtomicInteger cmdIdReceived = new AtomicInteger(VIRTIO_BALLOON_CMD_ID_STOP);
  // cmd_id_active: written only by the pass (volatile for readers on other threads)
  private volatile int cmdIdActive = VIRTIO_BALLOON_CMD_ID_STOP;
  private volatile HintSink sink;
  private volatile ReportingContext context;

  /**
   * Creates the strategy for an allocator.
   *
   * @param allocator the allocator
   * @param options batch size and isolation cpu are used
   * @throws IllegalArgumentException if the batch size is above {@value #MAX_BATCH_SIZE} or the
   *     cpu is not one of the allocator's
   */
  public HintAllocHoldStrategy(PageAllocator allocator, ReportingOptions options) {
    if (options.batchSize() > MAX_BATCH_SIZE) {
      throw new IllegalArgumentException(
          "batchSize must be in [1, " + MAX_BATCH_SIZE + "] (one free page vq entry is reserved"
              + " for the cmd id), got " + options.batchSize());
    }
    int c =
        options.isolationCpu() == ReportingOptions.CPU_UNSPECIFIED
            ? allocator.nrCpus() - 1
            : options.isolationCpu();
    if (c >= allocator.nrCpus()) {
      throw new IllegalArgumentException(
          "isolationCpu must be in [0, " + allocator.nrCpus() + "), got " + c);
    }
    this.allocator = allocator;
    // VIRTIO_BALLOON_HINT_BLOCK_ORDER: MAX_ORDER - 1 before v6.8, MAX_PAGE_ORDER since; the same
    this.order = allocator.geometry().maxPageOrder();
    this.batchSize = options.batchSize();
    this.cpu = c;
    this.pageSize = allocator.geometry().pageSize();
    this.held = new HintedBlockList(allocator, order, VIRTIO_BALLOON_FREE_PAGE_ALLOC_FLAG);
    this.batchPfns = new long[batchSize];
    this.batchOrders = new int[batchSize];
  }

  @Override
  public String name() {
    return NAME;
  }

  /** VIRTIO_BALLOON_HINT_BLOCK_ORDER: MAX_PAGE_ORDER of the geometry (10 on x86-64). */
  public int hintBlockOrder() {
    return order;
  }

  /** Blocks per hint call. */
  public int batchSize() {
    return batchSize;
  }

  /** The cpu the reporting thread allocates and frees on. */
  public int cpu() {
    return cpu;
  }

  /** The latest command id received ({@code cmd_id_received_cache}). */
  public int receivedCmdId() {
    return cmdIdReceived.get();
  }

  /** The id of the last round started ({@code cmd_id_active}), STOP before the first. */
  public int activeCmdId() {
    return cmdIdActive;
  }

  /** Blocks held now ({@code num_free_page_blocks}). */
  public int heldBlocks() {
    return held.size();
  }

  /**
   * Whether pfn heads a block this driver allocated for hinting and has not freed yet (held, or
   * in a hint call).
   *
   * @param pfn a pfn
   * @return whether it is one of the driver's blocks
   */
  public boolean isHintBlock(int pfn) {
    return held.isDriverBlock(pfn);
  }

  /** The shrinker registered while the strategy runs ({@code vb->shrinker}). */
  public Shrinker shrinker() {
    return shrinker;
  }

  /**
   * {@inheritDoc}
   *
   * @throws IllegalArgumentException if sink is null
   * @throws IllegalStateException if a sink was set already
   */
  @Override
  public void setHintSink(HintSink hintSink) {
    if (hintSink == null) {
      throw new IllegalArgumentException("hint sink must not be null");
    }
    synchronized (this) {
      if (sink != null) {
        throw new IllegalStateException(NAME + ": hint sink already set");
      }
      sink = hintSink;
    }
  }

  /** virtballoon_changed(): note the id (CONFIG_READ_CMD_ID) and queue report_free_page_work. */
  @Override
  public void onCommandId(int cmdId) {
    cmdIdReceived.set(cmdId);
    ReportingContext c = context;
    if (c != null) {
      c.request();
    }
    // before onStart: the agent's first pass, requested when it starts, reads the id
  }

  /**
   * Registers the shrinker (virtio_balloon_register_shrinker()).
   *
   * @throws IllegalStateException if no hint sink was set
   */
  @Override
  public void onStart(ReportingContext ctx) {
    if (sink == null) {
      throw new IllegalStateException(
          NAME + ": no hint sink; call setHintSink() before the agent starts");
    }
    context = ctx;
    allocator.registerShrinker(shrinker);
  }

  /**
   * Device removal (virtballoon_remove() -> remove_common()): unregisters the shrinker and frees
   * every held block; a pass still running frees what it allocates from now on.
   */
  @Override
  public void onClose() {
    allocator.unregisterShrinker(shrinker);
    long freed = held.release(cpu);
    ReportingContext c = context;
    if (c != null) {
      c.metrics().hintBlocksFreedOnClose(freed);
    }
  }

  /** report_free_page_func(). */
  @Override
  public int doWork(ReportingContext ctx) {
    int id = cmdIdReceived.get();
    if (id == VIRTIO_BALLOON_CMD_ID_DONE) {
      ctx.metrics().hintBlocksFreedOnDone(held.returnFreePagesToMm(cpu, Long.MAX_VALUE));
      return 0;
    }
    if (id == VIRTIO_BALLOON_CMD_ID_STOP || id == cmdIdActive) {
      return 0;
    }
    long before = ctx.metrics().hintedPages();
    reportFreePage(ctx, sink, id);
    return (int) Math.min(Integer.MAX_VALUE, ctx.metrics().hintedPages() - before);
  }

  /** virtio_balloon_report_free_page(): start, blocks, stop. */
  private void reportFreePage(ReportingContext ctx, HintSink s, int id) {
    // send_cmd_id_start() makes the received id the active one before it queues the outbuf
    cmdIdActive = id;
    int answer;
    try {
      answer = s.start(id);
    } catch (ReportException e) {
      failed(ctx, "start of round " + id, e);
      return;
    }
    ctx.metrics().hintRoundStarted();
    End end = answer == id ? sendFreePages(ctx, s, id) : End.DEVICE_MOVED_ON;
    LOG.debug("{}: round {} ended: {}, {} blocks held", NAME, id, end, held.size());
    if (end == End.SINK_FAILED || end == End.RELEASED) {
      return;
    }
    // send_cmd_id_stop(): also after the device moved on (a stale STOP is ignored by QEMU)
    try {
      s.stop();
    } catch (ReportException e) {
      failed(ctx, "stop of round " + id, e);
    }
  }

  /**
   * send_free_pages(): get_free_page_and_send() until the allocation fails or the id changes.
   *
   * <p>Linux adds each block as its own 4 MiB inbuf and kicks at once, without waiting for the
   * device to use it. Here a batch of blocks is that many inbufs queued back to back: {@link
   * HintSink#hint} returns once the device has taken the buffers, not after it processed them, so
   * nothing waits for the device either, and batch size 1 is the kernel's shape. Batching changes
   * two things: the device's answer is seen once per call, and blocks of a call in progress are
   * not yet on the held list, so the shrinker cannot take them until the call returns (in the
   * kernel a block is on the list as soon as it is queued). The received id is still checked
   * before every allocation, as the kernel does.
   */
  private End sendFreePages(ReportingContext ctx, HintSink s, int id) {
    int n = 0;
    End end;
    while (true) {
      // a stop id or a new cmd id just received ends the round
      if (cmdIdReceived.get() != id) {
        end = End.ID_CHANGED;
        break;
      }
      int pfn = held.alloc(cpu);
      if (pfn < 0) {
        // "we have got all the possible free pages" (or the device is gone)
        end = held.released() ? End.RELEASED : End.ALLOC_FAILED;
        break;
      }
      batchPfns[n] = pfn;
      batchOrders[n] = order;
      n++;
      if (n == batchSize) {
        End e = hint(ctx, s, id, n);
        n = 0;
        if (e != null) {
          return e;
        }
      }
    }
    if (n > 0) {
      if (end == End.RELEASED) {
        held.free(cpu, batchPfns, n);
        return end;
      }
      End e = hint(ctx, s, id, n);
      if (e != null) {
        return e;
      }
    }
    return end;
  }

  /**
   * Hints batch entries [0, n) and holds them; a call the device did not take frees them.
   *
   * @return null to go on, or how the round ends
   */
  private End hint(ReportingContext ctx, HintSink s, int id, int n) {
    int answer;
    boolean taken = false;
    // Locking: no lock is held across the device call, so the shrinker and a device removal can
    // take the held list meanwhile; that is why the call's blocks join the list only afterwards.
    try {
      answer = s.hint(id, batchPfns, batchOrders, n);
      taken = true;
    } catch (ReportException e) {
      failed(ctx, n + " blocks of round " + id, e);
      return End.SINK_FAILED;
    } finally {
      if (!taken) {
        held.free(cpu, batchPfns, n); // the device never took them
      }
    }
    long pages = (long) n << order;
    ctx.metrics().batchHinted(n, pages, pages * pageSize);
    int kept = held.hold(cpu, batchPfns, n);
    if (kept < n) {
      ctx.metrics().hintBlocksFreedOnClose(n - kept);
      return End.RELEASED;
    }
    return answer == id ? null : End.DEVICE_MOVED_ON;
  }

  private static void failed(ReportingContext ctx, String what, ReportException e) {
    ctx.metrics().batchFailed();
    LOG.warn("{}: {} not taken by the device: {}", NAME, what, e.getMessage());
  }

  @Override
  public String toString() {
    return NAME + "(order " + order + ", batch " + batchSize + ", cpu " + cpu + ")";
  }

  /** virtio_balloon_shrinker_count() / virtio_balloon_shrinker_scan(). */
  private final class FreePageShrinker implements Shrinker {
    @Override
    public long countObjects() {
      return (long) held.size() << order;
    }

    /** shrink_free_pages(): whole blocks, nrToScan rounded up to a block. */
    @Override
    public long scanObjects(int reclaimCpu, long nrToScan) {
      long blocks = (nrToScan + (1L << order) - 1) >>> order;
      long freed = held.returnFreePagesToMm(reclaimCpu, blocks);
      ReportingContext c = context;
      if (c != null) {
        c.metrics().hintBlocksShrunk(freed);
      }
      return freed << order;
    }
  }
}
