package io.hintlab.host.device;

import io.hintlab.host.memory.GuestMemory;
import io.hintlab.host.races.RaceKind;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Discards hinted ranges: at once (modes discard-hints — the Firecracker behaviour — and
 * hint-wait-ack), or with the guest paused (discard-hints-paused).
 *
 * <p>Paused variant: at receipt each range's dirty bits are synced; at the end of the batch the
 * guest is paused, the ranges synced again, and only pages not written since the receipt are
 * discarded (spec: the device may drop a hinted page only if the driver has not written it since).
 * No write can happen during the discard, so no race remains except writes between the guest
 * sending a hint and the host receiving it, which no VMM can tell from earlier writes.
 *
 * <p><b>Note:</b> called only with the {@link FreePageHinting} lock held, so one batch at a time.
 */
final class DiscardHintSink implements HintSink {
  private static final Logger LOG = LoggerFactory.getLogger(DiscardHintSink.class);
  private final BalloonDevice dev;
  private final boolean pauseGuest;
  private final List<long[]> pending = new ArrayList<>();

  DiscardHintSink(BalloonDevice dev, boolean pauseGuest) {
    this.dev = dev;
    this.pauseGuest = pauseGuest;
  }

  @Override
  public void beginBatch(int cmdId) {
    pending.clear();
  }

  @Override
  public void applyHint(long pfn, long nrPages, int cmdId) {
    GuestMemory mem = dev.memory();
    if (!pauseGuest) {
      dev.races().beforeDiscard(mem, pfn, nrPages);
      discard(pfn, nrPages);
      dev.races().afterDiscard(mem, pfn, nrPages, RaceKind.DIRTIED_BEFORE_HINT_DISCARD);
      return;
    }
    mem.syncDirty(pfn, nrPages, null); // receipt: later bits are writes after the hint arrived
    pending.add(new long[] {pfn, nrPages});
  }

  @Override
  public void endBatch() {
    if (!pauseGuest || pending.isEmpty()) {
      return;
    }
    boolean pausedHere = false;
    if (!dev.paused()) {
      try {
        dev.pause();
        pausedHere = true;
      } catch (BalloonException e) {
        LOG.warn("balloon hinting: guest {} not paused ({}); hinted ranges kept",
            dev.guestId(), e.getMessage());
        pending.clear();
        return;
      }
    }
    try {
      for (long[] r : pending) {
        discardClean(r[0], r[1]);
      }
    } finally {
      pending.clear();
      if (pausedHere) {
        try {
          dev.resume();
        } catch (BalloonException e) {
          LOG.warn("balloon hinting: resume of {} failed: {}", dev.guestId(), e.getMessage());
        }
      }
    }
  }

  // Discards the pages of the range not written since receipt, in maximal clean runs.
  private void discardClean(long pfn, long nrPages) {
    long[] dirty = new long[(int) ((nrPages + 63) >>> 6)];
    long found =
        dev.memory()
            .syncDirty(pfn, nrPages, p -> dirty[(int) ((p - pfn) >>> 6)] |= 1L << (p - pfn));
    dev.count(Counter.HINT_SKIPPED_DIRTY_PAGES, found);
    long runStart = -1;
    for (long i = 0; i <= nrPages; i++) {
      boolean clean = i < nrPages && (dirty[(int) (i >>> 6)] & (1L << i)) == 0;
      if (clean && runStart < 0) {
        runStart = i;
      } else if (!clean && runStart >= 0) {
        discard(pfn + runStart, i - runStart);
        runStart = -1;
      }
    }
  }

  private void discard(long pfn, long nrPages) {
    int poison = dev.poisonVal();
    if (poison != 0) {
      if (dev.options().writePoison()) {
        dev.memory().writePoison(pfn, nrPages, poison);
      }
      return; // as for reports: never zero a page the guest expects to hold poison
    }
    try {
      long n = dev.memory().discard(pfn, nrPages).discardedPages();
      dev.count(Counter.HINT_DISCARDED_PAGES, n);
    } catch (IOException e) {
      dev.count(Counter.DISCARD_FAILURES, 1);
      LOG.warn("balloon hinting: guest {} discard of pfn {} failed: {}", dev.guestId(), pfn,
          e.getMessage());
    }
  }
}
