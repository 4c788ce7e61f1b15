package io.hintlab.host.migration;

import io.hintlab.host.device.BalloonDevice;
import io.hintlab.host.device.BalloonException;
import io.hintlab.host.device.BalloonException.Reason;
import io.hintlab.host.device.FreePageHinting;
import io.hintlab.host.device.FreePageHinting.PrecopyEvent;
import io.hintlab.host.device.HintSink;
import io.hintlab.host.memory.GuestMemory;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The body of one migration thread: QEMU's migration_thread() driving ram.c's save handlers, i.e.
 * setup, pre-copy rounds, stop-and-copy, then the lab's verification, and cleanup whatever
 * happened. {@link PrecopyMigration} owns the thread, the phase and the stop request.
 *
 * <p><b>Note:</b> confined to the migration thread; only the ledger and the sink are shared with
 * the device's hint path (see their locking notes).
 */
final class MigrationRun {
  private static final Logger LOG = LoggerFactory.getLogger(MigrationRun.class);

  /** Thrown on the migration thread when a stop was requested; carries no stack. */
  static final class Stopped extends Exception {
    private static final long serialVersionUID = 1L;

    Stopped() {
      super("stopped", null, false, false);
    }
  }

  /** What one pass put on the link. */
  private record Counts(long normal, long zero, long holes, long bytes) {}

  private final PrecopyMigration engine;
  private final BalloonDevice device;
  private final GuestMemory memory;
  private final MigrationOptions options;
  private final boolean hinting;
  private final int pages;
  private final int pageSize;
  private final PageLedger ledger;
  private final DirtyTracker tracker;
  private final MigrationHintSink sink;
  private final long[] scratch;
  private final List<RoundStats> rounds = new ArrayList<>();
  private long setupSkipped;
  private long hintCmdIds;
  private long pauseNanos;
  private boolean pausedByUs;

  MigrationRun(PrecopyMigration engine, BalloonDevice device, MigrationOptions options,
      boolean hinting) {
    this.engine = engine;
    this.device = device;
    this.memory = device.memory();
    this.options = options;
    this.hinting = hinting;
    this.pages = (int) memory.pages();
    this.pageSize = memory.pageSize();
    this.ledger = new PageLedger(pages);
    this.tracker = new DirtyTracker(pages);
    this.sink = new MigrationHintSink(ledger, engine::precopyRunning, device.races());
    this.scratch = new long[(pages + 63) >>> 6];
  }

  /**
   * Runs the migration to its report.
   *
   * @throws BalloonException GUEST_UNRESPONSIVE (no Paused answer), WRONG_STATE (the guest cannot
   *     be paused), GUEST_NOT_FOUND (it detached), HOST_FAILURE (I/O)
   * @throws Stopped if a stop was requested
   */
  MigrationReport run() throws BalloonException, Stopped {
    long start = System.nanoTime();
    try (Endpoints ends = Endpoints.open(memory.ramPath(), (long) pages * pageSize,
        options.destinationDir(), device.guestId())) {
      PageSender sender =
          new PageSender(ends.source(), ends.destination(), pageSize, options.bandwidth());
      try {
        setup();
        boolean converged = precopy(sender);
        stopAndCopy(sender);
        engine.enterVerifying();
        Verification v = Verifier.verify(ends.source(), ends.destination(), pageSize,
            device.ownedBitmap(), dataPages(), ledger);
        device.resume();
        pausedByUs = false;
        return report(sender, converged, v, System.nanoTime() - start);
      } finally {
        cleanup();
      }
    } catch (IOException e) {
      throw new BalloonException(Reason.HOST_FAILURE,
          "migration of " + device.guestId() + ": cannot open source or destination: "
              + e.getMessage(), e);
    } catch (IllegalStateException e) {
      if (memory.isClosed()) {
        throw detached(e);
      }
      throw e;
    }
  }

  // ram_save_setup() and ram_init_bitmaps(): dirty logging first (memory_global_dirty_log_start()),
  // then the first bitmap sync, whose AFTER_BITMAP_SYNC notifier issues the first command id, so
  // no hint is ever applied to a page whose later writes would go unlogged.
  private void setup() {
    memory.addDirtySink(tracker);
    if (hinting) {
      device.hinting().setRelaxations(options.guards().relaxations());
      device.setMigrationHintSink(sink);
    }
    engine.enterIterating();
    setupSkipped = bitmapSyncPrecopy(true, false).skippedInEndedRound();
    engine.progress(new MigrationProgress(MigrationPhase.ITERATING, 0, 0, ledger.remaining(), 0));
  }

  // migration_iteration_run(): a pass over the bitmap per round, then a bitmap sync; switch over
  // when the pending set fits the downtime limit, or at the round limit.
  private boolean precopy(PageSender sender) throws BalloonException, Stopped {
    for (int round = 0; ; round++) {
      engine.checkStop(); // a round may have nothing to send, and so no page to check at
      Counts c = pass(sender);
      PageLedger.Merge m = bitmapSyncPrecopy(true, true);
      long remaining = ledger.remaining();
      long skipped = m.skippedInEndedRound() + (round == 0 ? setupSkipped : 0);
      rounds.add(stats(round, false, c, skipped, m.dirtyPages(), remaining));
      LOG.debug("migration: {} round {}: {} normal + {} zero pages, {} skipped by hints, "
              + "{} dirty at sync, {} remaining", device.guestId(), round, c.normal(), c.zero(),
          skipped, m.dirtyPages(), remaining);
      engine.progress(new MigrationProgress(MigrationPhase.ITERATING, round, sender.wireBytes(),
          remaining, ledger.skippedTotal()));
      boolean fits = converged(remaining);
      if (fits || round + 1 >= options.maxRounds()) {
        return fits;
      }
    }
  }

  // migration_iteration_run(): pending below threshold_size = bandwidth x downtime-limit
  // (migration_update_counters()), or nothing pending at all.
  private boolean converged(long remainingPages) {
    long threshold = options.bandwidth().bytesIn(options.downtimeLimitMs());
    return remainingPages == 0 || remainingPages * pageSize < threshold;
  }

  // migration_completion(): stop the VM (PAUSE, bounded wait for Paused), then ram_save_complete():
  // the last bitmap sync, whose AFTER_BITMAP_SYNC notifier sees the VM stopped and sets DONE, and
  // the rest of the dirty set.
  private void stopAndCopy(PageSender sender) throws BalloonException, Stopped {
    engine.enterStopAndCopy(); // from here the sink drops hints, as QEMU blocks its iothread
    int round = ledger.round();
    long t0 = System.nanoTime();
    try {
      device.pause();
    } catch (BalloonException e) {
      engine.checkStop();
      throw new BalloonException(e.reason(), "migration of " + device.guestId()
          + " failed at stop-and-copy: " + e.getMessage(), e);
    }
    pauseNanos = System.nanoTime() - t0;
    pausedByUs = true;
    engine.checkStop();
    PageLedger.Merge m = bitmapSyncPrecopy(false, false);
    Counts c = pass(sender);
    rounds.add(stats(round, true, c, m.skippedInEndedRound(), m.dirtyPages(), 0));
    engine.progress(new MigrationProgress(MigrationPhase.STOP_AND_COPY, round, sender.wireBytes(),
        0, ledger.skippedTotal()));
  }

  // ram_find_and_save_block() until the bitmap is clean, lowest pfn first. A page inside a hole
  // of the RAM file goes as a zero page without being read (a read would allocate it on tmpfs).
  private Counts pass(PageSender sender) throws BalloonException, Stopped {
    long[] data = dataPages();
    long n0 = sender.normalPages();
    long z0 = sender.zeroPages();
    long h0 = sender.holePages();
    long b0 = sender.wireBytes();
    for (int pfn = ledger.takeNext(0); pfn >= 0; pfn = ledger.takeNext(pfn + 1)) {
      sender.send(pfn, (data[pfn >>> 6] & (1L << pfn)) == 0);
      ledger.sent(pfn);
      engine.checkStop();
    }
    return new Counts(sender.normalPages() - n0, sender.zeroPages() - z0,
        sender.holePages() - h0, sender.wireBytes() - b0);
  }

  // migration_bitmap_sync_precopy(): STOP before the sync, a new command id after it (DONE if the
  // VM is stopped), in QEMU's precopy-notifier order.
  private PageLedger.Merge bitmapSyncPrecopy(boolean vmRunning, boolean advance) {
    FreePageHinting h = device.hinting();
    if (hinting && !options.guards().noStopBeforeSync()) {
      h.precopyNotify(PrecopyEvent.BEFORE_BITMAP_SYNC, vmRunning);
    }
    PageLedger.Merge m = bitmapSync(advance);
    if (hinting) {
      // Locking: the hinting lock is held across the notifier and the epoch update, so no hint
      // under the new id can be applied before the ledger knows the id (it would be flagged).
      synchronized (h) {
        h.precopyNotify(PrecopyEvent.AFTER_BITMAP_SYNC, vmRunning);
        if (vmRunning) {
          ledger.openEpoch(h.cmdId());
          hintCmdIds++;
        }
      }
    }
    return m;
  }

  // migration_bitmap_sync(): stage one fetch-and-clears the guest's dirty log (every page found
  // reaches the tracker, as do pages other syncs found), stage two merges the tracker into the
  // migration bitmap.
  private PageLedger.Merge bitmapSync(boolean advance) {
    memory.syncAllDirty(null);
    tracker.drainInto(scratch);
    return ledger.merge(scratch, advance);
  }

  private long[] dataPages() throws BalloonException {
    try {
      return HoleScanner.dataPages(memory.ramPath(), pages, pageSize);
    } catch (IOException e) {
      if (memory.isClosed()) {
        throw detached(e);
      }
      throw new BalloonException(Reason.HOST_FAILURE,
          "migration of " + device.guestId() + ": cannot scan holes: " + e.getMessage(), e);
    }
  }

  private BalloonException detached(Exception cause) {
    return new BalloonException(Reason.GUEST_NOT_FOUND,
        "guest " + device.guestId() + " detached during its migration", cause);
  }

  // ram_save_cleanup() and the CLEANUP notifier: DONE so the guest releases its hinted pages,
  // dirty logging off, and a guest the migration paused is resumed (QEMU restarts the VM when
  // the completion fails).
  private void cleanup() {
    boolean interrupted = Thread.interrupted(); // a stop's interrupt must not break the cleanup
    if (hinting) {
      device.setMigrationHintSink(HintSink.NONE);
      device.hinting().precopyNotify(PrecopyEvent.CLEANUP, false);
      device.hinting().setRelaxations(Set.of());
    }
    memory.removeDirtySink(tracker);
    if (pausedByUs) {
      pausedByUs = false;
      try {
        device.resume();
      } catch (BalloonException e) {
        LOG.warn("migration: resume of {} failed: {}", device.guestId(), e.getMessage());
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private RoundStats stats(int round, boolean stopAndCopy, Counts c, long skipped, long dirty,
      long remaining) {
    return new RoundStats(round, stopAndCopy, c.normal(), c.zero(), c.holes(), c.bytes(),
        options.bandwidth().nanosFor(c.bytes()), skipped, dirty, remaining);
  }

  private MigrationReport report(PageSender sender, boolean converged, Verification v,
      long wallNanos) {
    MigrationReport.Transfer t = new MigrationReport.Transfer(rounds.size() - 1, converged,
        sender.wireBytes(), sender.normalPages(), sender.zeroPages(), sender.holePages(),
        ledger.skippedTotal(), ledger.hintedPages(), rounds.get(0).pagesSkippedByHints(),
        hintCmdIds, sink.ignoredPages());
    RoundStats last = rounds.get(rounds.size() - 1);
    MigrationReport.Timing timing = new MigrationReport.Timing(
        options.bandwidth().nanosFor(sender.wireBytes()), pauseNanos + last.linkNanos(),
        pauseNanos, wallNanos);
    LOG.info("migration: {} done: {} rounds, {} bytes, {} skipped by hints, downtime {} ms, "
            + "{} of {} owned pages corrupted", device.guestId(), t.rounds(), t.bytesSent(),
        t.pagesSkippedByHints(), timing.downtimeMs(), v.corruptedPages(), v.ownedPages());
    return new MigrationReport(device.guestId(), options, hinting, t, timing, v, rounds);
  }
}
