package io.hintlab.host.device;

import static io.hintlab.host.device.VirtioBalloon.has;

import io.hintlab.host.device.BalloonException.Reason;
import io.hintlab.host.memory.DiscardOutcome;
import io.hintlab.host.memory.GuestMemory;
import io.hintlab.host.memory.PageBitmap;
import io.hintlab.host.races.RaceDetector;
import io.hintlab.host.races.RaceKind;
import io.hintlab.host.races.RaceLog;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One guest's virtio-balloon device: negotiated features, config space, the reporting, hinting,
 * inflate/deflate and stats queues, pause/resume, and the counters.
 *
 * <p>Each queue method validates its whole input first and throws {@link BalloonException} before
 * changing anything. Reports: for each range the dirty log is synced, the range discarded (or
 * skipped as QEMU does: misaligned to the backing page, or poison_val != 0), and synced again so
 * writes during the discard are caught by the {@link RaceDetector}.
 *
 * <p><b>Note:</b> thread-safe. Queue calls may come from several gRPC threads; the memory, hinting
 * state and bitmaps each guard themselves (see their classes); lock order is hinting, then memory,
 * then the device's small bitmaps.
 */
public final class BalloonDevice implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BalloonDevice.class);
  /** Pages per pageblock for memory maps (x86-64: pageblock_order 9). */
  public static final int PAGES_PER_BLOCK = 512;
  private static final int STATS_TAGS = 16;
  /**
   * Names in {@link #counters()} whose values are current levels that may fall (pages discarded,
   * hinted or ballooned now), not monotonic counters; Prometheus must export them as gauges.
   */
  public static final Set<String> LEVEL_NAMES =
      Set.of("discarded_pages", "hinted_pages_now", "ballooned_pages");
  private static final DeviceEvents NO_EVENTS =
      new DeviceEvents() {
        @Override
        public void configChanged(ConfigSpace c) {}

        @Override
        public void pause(ConfigSpace c) {}

        @Override
        public void resume(ConfigSpace c) {}

        @Override
        public void shutdown(ConfigSpace c) {}
      };

  private final String guestId;
  private final String guestName;
  private final long pid;
  private final long attachedAtNs = System.nanoTime();
  private final GuestMemory memory;
  private final long offeredFeatures;
  private final long negotiatedFeatures;
  private final int poisonVal;
  private final int maxOrder;
  private final DeviceOptions options;
  private final FreePageHinting hinting = new FreePageHinting();
  private final RaceDetector races;
  private final AtomicLongArray counters = new AtomicLongArray(Counter.values().length);
  private final AtomicLongArray stats = new AtomicLongArray(STATS_TAGS);
  private final PageBitmap ballooned; // guarded by itself
  private final PageBitmap hinted; // guarded by itself
  private final AtomicBoolean migrating = new AtomicBoolean();
  private volatile HostMode mode;
  private volatile HintSink migrationSink = HintSink.NONE;
  private volatile DeviceEvents events = NO_EVENTS;
  private volatile int numPages;
  private volatile boolean paused;
  private volatile CountDownLatch pauseAnswer;
  private volatile byte[] ownedBitmap = new byte[0];
  private volatile long lostWrites;
  private volatile byte[] guestMap = new byte[0];
  private volatile Map<String, Long> guestCounters = Map.of();

  /**
   * Creates a device over {@code memory} (which it owns and closes).
   *
   * @param negotiatedFeatures already checked by {@link FeatureNegotiation#negotiate}
   */
  public BalloonDevice(
      String guestId,
      String guestName,
      long pid,
      GuestMemory memory,
      long offeredFeatures,
      long negotiatedFeatures,
      int poisonVal,
      int maxOrder,
      HostMode mode,
      RaceLog raceLog,
      DeviceOptions options) {
    this.guestId = guestId;
    this.guestName = guestName;
    this.pid = pid;
    this.memory = memory;
    this.offeredFeatures = offeredFeatures;
    this.negotiatedFeatures = negotiatedFeatures;
    this.poisonVal = has(negotiatedFeatures, VirtioBalloon.VIRTIO_BALLOON_F_PAGE_POISON)
        ? poisonVal : 0;
    this.maxOrder = maxOrder;
    this.options = options;
    this.races = new RaceDetector(guestId, raceLog);
    this.ballooned = new PageBitmap(memory.pages());
    this.hinted = new PageBitmap(memory.pages());
    // A written page is no longer hinted: the write overrides the hint (spec 5.5.6.7).
    memory.addDirtySink(
        pfn -> {
          synchronized (hinted) {
            hinted.clear(pfn);
          }
        });
    hinting.addListener(this::onHintStatus);
    setMode(mode);
  }

  // ---- identity and state ------------------------------------------------------------------

  /** Session id (not the secret token). */
  public String guestId() {
    return guestId;
  }

  /** Name the guest gave. */
  public String guestName() {
    return guestName;
  }

  /** The guest's pid. */
  public long pid() {
    return pid;
  }

  /** Host monotonic time of attach. */
  public long attachedAtNs() {
    return attachedAtNs;
  }

  /** The guest's RAM, dirty log and discard map. */
  public GuestMemory memory() {
    return memory;
  }

  /** The hinting state machine (for migration: stop/requestNewCmdId/done/precopyNotify). */
  public FreePageHinting hinting() {
    return hinting;
  }

  /** This guest's race detector. */
  public RaceDetector races() {
    return races;
  }

  /** Offered feature bits. */
  public long offeredFeatures() {
    return offeredFeatures;
  }

  /** Negotiated feature bits. */
  public long negotiatedFeatures() {
    return negotiatedFeatures;
  }

  /** Device options. */
  public DeviceOptions options() {
    return options;
  }

  /** The guest's poison value (0 unless PAGE_POISON was negotiated). */
  public int poisonVal() {
    return poisonVal;
  }

  /** The guest's declared max order. */
  public int maxOrder() {
    return maxOrder;
  }

  /** Current host mode. */
  public HostMode mode() {
    return mode;
  }

  /** Whether the guest is paused. */
  public boolean paused() {
    return paused;
  }

  /** Lost writes the guest reported with its last Paused answer. */
  public long lostWrites() {
    return lostWrites;
  }

  /** Owned-page bitmap of the guest's last Paused answer (bit pfn&63 of LE word pfn>>6). */
  public byte[] ownedBitmap() {
    return ownedBitmap.clone();
  }

  /** Last value of virtio stats tag {@code tag}. */
  public long stat(int tag) {
    return stats.get(tag);
  }

  /** Counter value. */
  public long counter(Counter c) {
    return counters.get(c.ordinal());
  }

  /** Adds to a counter (the rpc layer counts rejected calls). */
  public void count(Counter c, long delta) {
    counters.addAndGet(c.ordinal(), delta);
  }

  /** The config space as the driver would read it now. */
  public ConfigSpace config() {
    int actual;
    synchronized (ballooned) {
      actual = (int) ballooned.cardinality();
    }
    return new ConfigSpace(numPages, actual, hinting.configCmdId(), poisonVal);
  }

  /** Switches the mode: chooses the sink hints are applied to. */
  public void setMode(HostMode newMode) {
    this.mode = newMode;
    hinting.setSink(sinkFor(newMode));
  }

  /**
   * Plugs in the sink used in mode {@code migrate} (the migration bitmap); {@link HintSink#NONE}
   * to unplug.
   */
  public void setMigrationHintSink(HintSink sink) {
    this.migrationSink = sink == null ? HintSink.NONE : sink;
    if (mode == HostMode.MIGRATE) {
      hinting.setSink(new RecordingSink(migrationSink));
    }
  }

  /**
   * Claims the device for one live migration (at most one runs per guest).
   *
   * @return false if a migration already holds the claim
   */
  public boolean claimMigration() {
    return migrating.compareAndSet(false, true);
  }

  /** Releases the claim taken by {@link #claimMigration()}. */
  public void releaseMigration() {
    migrating.set(false);
  }

  /** Whether a live migration of this guest is running. */
  public boolean migrating() {
    return migrating.get();
  }

  private HintSink sinkFor(HostMode m) {
    HintSink inner =
        switch (m) {
          case DISCARD -> HintSink.NONE;
          case MIGRATE -> migrationSink;
          case DISCARD_HINTS, HINT_WAIT_ACK -> new DiscardHintSink(this, false);
          case DISCARD_HINTS_PAUSED -> new DiscardHintSink(this, true);
        };
    return new RecordingSink(inner);
  }

  /** Marks applied hints in the hinted bitmap and counts them, then delegates. */
  private final class RecordingSink implements HintSink {
    private final HintSink inner;

    RecordingSink(HintSink inner) {
      this.inner = inner;
    }

    @Override
    public void beginBatch(int cmdId) throws BalloonException {
      inner.beginBatch(cmdId);
    }

    @Override
    public void beginBatch(int cmdId, FreePageHinting.Admission admission)
        throws BalloonException {
      inner.beginBatch(cmdId, admission); // the migration sink attributes by admission
    }

    @Override
    public void applyHint(long pfn, long nrPages, int cmdId) throws BalloonException {
      synchronized (hinted) {
        hinted.setRange(pfn, nrPages);
      }
      count(Counter.HINTED_PAGES, nrPages);
      inner.applyHint(pfn, nrPages, cmdId);
    }

    @Override
    public void endBatch() throws BalloonException {
      inner.endBatch();
    }
  }

  /** Sets the listener for host-to-guest events (the WatchConfig stream), or null for none. */
  public void setEvents(DeviceEvents e) {
    this.events = e == null ? NO_EVENTS : e;
  }

  private void onHintStatus(HintStatus from, HintStatus to, int cmdId) {
    if (to == HintStatus.S_REQUESTED) {
      count(Counter.HINT_ROUNDS, 1);
    }
    if (to == HintStatus.S_DONE) {
      synchronized (hinted) {
        hinted.clearAll(); // the guest releases every hinted page on DONE
      }
    }
    // S_START is not visible in the config space (reads 0) and QEMU sends no interrupt for it.
    if (to != HintStatus.S_START) {
      events.configChanged(config());
    }
  }

  // ---- reporting queue ------------------------------------------------------------------------

  /** Outcome of one Report call. */
  public record ReportResult(long discardedPages, int ignoredRanges, long alreadyDiscardedPages) {}

  /**
   * The reporting virtqueue: discards one batch of free ranges, then returns (the ack).
   *
   * @throws BalloonException FEATURE_NOT_NEGOTIATED, or a validation reason; nothing changed then
   */
  public ReportResult report(long[] pfns, int[] orders) throws BalloonException {
    long start = System.nanoTime();
    requireFeature(VirtioBalloon.VIRTIO_BALLOON_F_PAGE_REPORTING, "PAGE_REPORTING");
    PageRanges ranges =
        PageRanges.validate(pfns, orders, options.reportingCapacity(), maxOrder, memory.pages());
    long discarded = 0;
    long already = 0;
    int ignored = 0;
    long bytes = 0;
    for (int i = 0; i < ranges.size(); i++) {
      long pfn = ranges.pfn(i);
      long n = ranges.nrPages(i);
      bytes += n * memory.pageSize();
      races.beforeDiscard(memory, pfn, n);
      if (poisonVal != 0) {
        // mirrors virtio_balloon_handle_report(): no discard if the guest expects poison back
        if (options.writePoison()) {
          memory.writePoison(pfn, n, poisonVal);
          count(Counter.POISON_WRITTEN_RANGES, 1);
        } else {
          ignored++;
        }
        continue;
      }
      try {
        DiscardOutcome out = memory.discard(pfn, n);
        if (out.ignored()) {
          ignored++;
          continue;
        }
        discarded += out.discardedPages();
        already += out.alreadyDiscardedPages();
      } catch (IOException e) {
        // QEMU logs a failed discard and still acks the buffer; so do we, and count it.
        count(Counter.DISCARD_FAILURES, 1);
        LOG.warn("balloon reporting: guest {} discard of pfn {} failed: {}", guestId, pfn,
            e.getMessage());
        continue;
      }
      races.afterDiscard(memory, pfn, n, RaceKind.WRITTEN_DURING_REPORT);
    }
    count(Counter.REPORTS, 1);
    count(Counter.REPORTED_RANGES, ranges.size());
    count(Counter.REPORTED_BYTES, bytes);
    count(Counter.REPORT_DISCARDED_PAGES, discarded);
    count(Counter.ALREADY_DISCARDED_PAGES, already);
    count(Counter.IGNORED_RANGES, ignored);
    count(Counter.REPORT_HANDLING_NS, System.nanoTime() - start);
    return new ReportResult(discarded, ignored, already);
  }

  // ---- free page hint queue -------------------------------------------------------------------

  /** The driver's start outbuf. Returns the device's current config cmd id afterwards. */
  public FreePageHinting.Result hintStart(int cmdId) throws BalloonException {
    requireFeature(VirtioBalloon.VIRTIO_BALLOON_F_FREE_PAGE_HINT, "FREE_PAGE_HINT");
    popDelay();
    if (!hinting.guestStart(cmdId)) {
      count(Counter.STALE_CMD_IDS, 1);
    }
    return new FreePageHinting.Result(hinting.currentCmdId(), 0, 0);
  }

  /** The driver's STOP outbuf. */
  public FreePageHinting.Result hintStop() throws BalloonException {
    requireFeature(VirtioBalloon.VIRTIO_BALLOON_F_FREE_PAGE_HINT, "FREE_PAGE_HINT");
    popDelay();
    if (!hinting.guestStop()) {
      count(Counter.STALE_CMD_IDS, 1);
    }
    return new FreePageHinting.Result(hinting.currentCmdId(), 0, 0);
  }

  /**
   * Hinted ranges under {@code cmdId}: applied to the mode's sink if the id is current and the
   * round started, else ignored and logged as stale.
   */
  public FreePageHinting.Result hintRanges(int cmdId, long[] pfns, int[] orders)
      throws BalloonException {
    requireFeature(VirtioBalloon.VIRTIO_BALLOON_F_FREE_PAGE_HINT, "FREE_PAGE_HINT");
    PageRanges ranges =
        PageRanges.validate(pfns, orders, VirtioBalloon.FREE_PAGE_VQ_SIZE, maxOrder,
            memory.pages());
    popDelay();
    HintStatus before = hinting.status();
    int hostId = hinting.cmdId();
    FreePageHinting.Result r =
        hinting.applyHints(cmdId, ranges.pfnArray(), ranges.nrPagesArray());
    count(Counter.HINTS, 1);
    count(Counter.HINTED_RANGES, r.applied());
    if (r.ignored() > 0) {
      count(Counter.STALE_HINTS, r.ignored());
      races.record(
          RaceKind.STALE_HINT,
          ranges.pfn(0),
          r.ignored() + " ranges with cmd id 0x" + Integer.toHexString(cmdId) + " while device is "
              + before + " with id 0x" + Integer.toHexString(hostId));
    }
    return r;
  }

  /**
   * {@link DeviceOptions#hintDelay()}: the request waits in the queue before the device takes
   * it, outside every lock, so the hinting status it meets is the one at pop time, as in QEMU's
   * get_free_page_hints().
   */
  private void popDelay() throws BalloonException {
    long nanos = options.hintDelay().toNanos();
    if (nanos == 0) {
      return;
    }
    try {
      TimeUnit.NANOSECONDS.sleep(nanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BalloonException(BalloonException.Reason.HOST_FAILURE,
          "interrupted while a free page hint request waited to be taken", e);
    }
  }

  /**
   * Host request: a new hinting round (new command id, S_REQUESTED, config change pushed).
   *
   * @return the new command id
   * @throws BalloonException FEATURE_NOT_NEGOTIATED
   */
  public int startHinting() throws BalloonException {
    requireFeature(VirtioBalloon.VIRTIO_BALLOON_F_FREE_PAGE_HINT, "FREE_PAGE_HINT");
    return hinting.requestNewCmdId();
  }

  /** Host request: STOP ({@code done == false}) or DONE. */
  public void stopHinting(boolean done) throws BalloonException {
    requireFeature(VirtioBalloon.VIRTIO_BALLOON_F_FREE_PAGE_HINT, "FREE_PAGE_HINT");
    if (done) {
      hinting.done();
    } else {
      hinting.stop();
    }
  }

  /** Pages hinted and neither written nor released (DONE) since. */
  public long hintedPages() {
    synchronized (hinted) {
      return hinted.cardinality();
    }
  }

  // ---- inflate / deflate / stats --------------------------------------------------------------

  /**
   * The inflate queue: the pages go into the balloon and are discarded (QEMU balloon_inflate_page).
   *
   * @return pages processed
   */
  public int inflate(long[] pfns) throws BalloonException {
    checkPfnArray(pfns);
    int processed = 0;
    for (long pfn : pfns) {
      synchronized (ballooned) {
        ballooned.set(pfn);
      }
      // Writes before the inflate are the page's old life; only later ones break MUST_TELL_HOST.
      memory.syncDirty(pfn, 1, null);
      try {
        // QEMU's balloon_inflate_page() discards whatever poison_val is: only the reporting
        // handler skips poisoned guests, and the driver rewrites poison after deflating.
        memory.discard(pfn, 1);
      } catch (IOException e) {
        count(Counter.DISCARD_FAILURES, 1);
      }
      processed++;
    }
    count(Counter.INFLATED_PAGES, processed);
    events.configChanged(config());
    return processed;
  }

  /**
   * The deflate queue: the pages leave the balloon. With MUST_TELL_HOST negotiated, a deflated page
   * found already written was used while in the balloon: a race event.
   */
  public int deflate(long[] pfns) throws BalloonException {
    checkPfnArray(pfns);
    boolean mustTell = has(negotiatedFeatures, VirtioBalloon.VIRTIO_BALLOON_F_MUST_TELL_HOST);
    int processed = 0;
    for (long pfn : pfns) {
      boolean was;
      synchronized (ballooned) {
        was = ballooned.clear(pfn);
      }
      if (was && mustTell) {
        memory.syncDirty(pfn, 1,
            p -> races.record(RaceKind.WRITTEN_WHILE_INFLATED, p, "written before deflate"));
      }
      processed++;
    }
    count(Counter.DEFLATED_PAGES, processed);
    events.configChanged(config());
    return processed;
  }

  private void checkPfnArray(long[] pfns) throws BalloonException {
    if (pfns.length > VirtioBalloon.VIRTIO_BALLOON_ARRAY_PFNS_MAX) {
      throw new BalloonException(Reason.TOO_MANY_ENTRIES,
          pfns.length + " pfns exceed VIRTIO_BALLOON_ARRAY_PFNS_MAX (256)");
    }
    if (memory.pageSize() != 1 << VirtioBalloon.VIRTIO_BALLOON_PFN_SHIFT) {
      throw new BalloonException(Reason.WRONG_STATE,
          "inflate/deflate need 4 KiB guest pages, this guest has " + memory.pageSize());
    }
    for (int i = 0; i < pfns.length; i++) {
      if (pfns[i] < 0 || pfns[i] >= memory.pages()) {
        throw new BalloonException(Reason.RANGE_OUT_OF_BOUNDS,
            "pfn " + Long.toUnsignedString(pfns[i]) + " (entry " + i + ") is beyond the guest's "
                + memory.pages() + " pages");
      }
    }
  }

  /** Pages in the balloon now. */
  public long balloonedPages() {
    synchronized (ballooned) {
      return ballooned.cardinality();
    }
  }

  /** The stats queue: records (tag, value) pairs; unknown tags are rejected. */
  public void stats(int[] tags, long[] values) throws BalloonException {
    requireFeature(VirtioBalloon.VIRTIO_BALLOON_F_STATS_VQ, "STATS_VQ");
    for (int tag : tags) {
      if (tag < 0 || tag >= STATS_TAGS) {
        throw new BalloonException(Reason.MALFORMED_REQUEST,
            "unknown stats tag " + Integer.toUnsignedString(tag) + " (valid 0..15)");
      }
    }
    for (int i = 0; i < tags.length; i++) {
      stats.set(tags[i], values[i]);
    }
    count(Counter.STATS_UPDATES, 1);
  }

  // ---- host requests --------------------------------------------------------------------------

  /** Sets the balloon target (config num_pages) and notifies the guest. */
  public void setTarget(int pages) throws BalloonException {
    if (Integer.toUnsignedLong(pages) > memory.pages()) {
      throw new BalloonException(Reason.RANGE_OUT_OF_BOUNDS,
          "balloon target " + Integer.toUnsignedString(pages) + " exceeds the guest's "
              + memory.pages() + " pages");
    }
    numPages = pages;
    events.configChanged(config());
  }

  /**
   * Pushes PAUSE and waits (bounded by the options' pause timeout) for the guest's Paused answer.
   *
   * @throws BalloonException WRONG_STATE if already paused, GUEST_UNRESPONSIVE on timeout
   */
  public synchronized void pause() throws BalloonException {
    if (paused) {
      throw new BalloonException(Reason.WRONG_STATE, "guest " + guestId + " is already paused");
    }
    if (events == NO_EVENTS) {
      throw new BalloonException(Reason.WRONG_STATE,
          "guest " + guestId + " has no WatchConfig stream to receive PAUSE");
    }
    CountDownLatch answer = new CountDownLatch(1);
    pauseAnswer = answer;
    events.pause(config());
    try {
      if (!answer.await(options.pauseTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
        pauseAnswer = null;
        events.resume(config()); // do not leave a half-paused guest behind
        throw new BalloonException(Reason.GUEST_UNRESPONSIVE,
            "guest " + guestId + " did not answer PAUSE within " + options.pauseTimeout());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      pauseAnswer = null;
      events.resume(config()); // as on timeout: the guest may have stopped its vCPUs already
      throw new BalloonException(Reason.HOST_FAILURE, "interrupted while pausing " + guestId);
    }
    paused = true;
    count(Counter.PAUSES, 1);
  }

  /** The guest's Paused answer. */
  public void paused(byte[] owned, long lost) throws BalloonException {
    CountDownLatch answer = pauseAnswer;
    if (answer == null) {
      throw new BalloonException(Reason.WRONG_STATE, "no PAUSE is pending for " + guestId);
    }
    long maxBytes = ((memory.pages() + 63) >>> 6) * 8;
    if (owned.length > maxBytes) {
      throw new BalloonException(Reason.MALFORMED_REQUEST,
          "owned bitmap of " + owned.length + " bytes exceeds " + maxBytes);
    }
    ownedBitmap = owned.clone();
    lostWrites = lost;
    pauseAnswer = null;
    answer.countDown();
  }

  /** Resumes a paused guest. */
  public synchronized void resume() throws BalloonException {
    if (!paused) {
      throw new BalloonException(Reason.WRONG_STATE, "guest " + guestId + " is not paused");
    }
    paused = false;
    events.resume(config());
  }

  /** Records the guest's published memory map and counters. */
  public void publishMemoryMap(byte[] states, Map<String, Long> counters)
      throws BalloonException {
    long blocks = (memory.pages() + PAGES_PER_BLOCK - 1) / PAGES_PER_BLOCK;
    if (states.length > blocks) {
      throw new BalloonException(Reason.MALFORMED_REQUEST,
          states.length + " pageblock states exceed the guest's " + blocks + " pageblocks");
    }
    guestMap = states.clone();
    guestCounters = Map.copyOf(counters);
  }

  /** The guest's last published counters. */
  public Map<String, Long> guestCounters() {
    return guestCounters;
  }

  /**
   * One PageblockState value per pageblock: ballooned, discarded or hinted when at least half of
   * its pages are, else what the guest published (UNSPECIFIED if nothing).
   */
  public byte[] memoryMap() {
    long pages = memory.pages();
    int blocks = (int) ((pages + PAGES_PER_BLOCK - 1) / PAGES_PER_BLOCK);
    byte[] out = new byte[blocks];
    byte[] guest = guestMap;
    System.arraycopy(guest, 0, out, 0, Math.min(blocks, guest.length));
    int[] discarded = new int[blocks];
    memory.readDiscardMap(
        map -> {
          for (long p = map.nextSetBit(0); p >= 0; p = map.nextSetBit(p + 1)) {
            discarded[(int) (p / PAGES_PER_BLOCK)]++;
          }
        });
    int[] inBalloon = countPerBlock(ballooned, blocks);
    int[] hint = countPerBlock(hinted, blocks);
    for (int b = 0; b < blocks; b++) {
      int size = (int) Math.min(PAGES_PER_BLOCK, pages - (long) b * PAGES_PER_BLOCK);
      if (inBalloon[b] * 2 >= size && inBalloon[b] > 0) {
        out[b] = 6; // PAGEBLOCK_BALLOONED
      } else if (discarded[b] * 2 >= size && discarded[b] > 0) {
        out[b] = 4; // PAGEBLOCK_DISCARDED
      } else if (hint[b] * 2 >= size && hint[b] > 0) {
        out[b] = 7; // PAGEBLOCK_HINTED
      }
    }
    return out;
  }

  private static int[] countPerBlock(PageBitmap map, int blocks) {
    int[] c = new int[blocks];
    synchronized (map) {
      for (long p = map.nextSetBit(0); p >= 0; p = map.nextSetBit(p + 1)) {
        c[(int) (p / PAGES_PER_BLOCK)]++;
      }
    }
    return c;
  }

  /** Every counter by wire name, including memory and race counters (see {@link #LEVEL_NAMES}). */
  public Map<String, Long> counters() {
    Map<String, Long> m = new LinkedHashMap<>();
    for (Counter c : Counter.values()) {
      m.put(c.wireName(), counter(c));
    }
    m.put("refaults", memory.refaults());
    m.put("misaligned_ranges", memory.misalignedRanges());
    m.put("memory_discard_failures", memory.discardFailures());
    m.put("discarded_pages", memory.discardedPages());
    m.put("hinted_pages_now", hintedPages());
    m.put("ballooned_pages", balloonedPages());
    m.put("races", races.total());
    for (var e : races.counts().entrySet()) {
      m.put("races_" + e.getKey().wireName(), e.getValue());
    }
    m.put("lost_writes", lostWrites);
    return m;
  }

  private void requireFeature(int bit, String name) throws BalloonException {
    if (!has(negotiatedFeatures, bit)) {
      throw new BalloonException(Reason.FEATURE_NOT_NEGOTIATED,
          "VIRTIO_BALLOON_F_" + name + " was not negotiated");
    }
  }

  /** Tells the guest to shut down (if it listens) and frees its memory. Idempotent. */
  @Override
  public void close() {
    try {
      events.shutdown(config());
    } catch (RuntimeException e) {
      LOG.debug("balloon: shutdown event to {} failed: {}", guestId, e.toString());
    }
    events = NO_EVENTS;
    try {
      memory.close();
    } catch (IOException e) {
      LOG.warn("balloon: freeing memory of guest {} failed: {}", guestId, e.getMessage());
    }
  }
}
