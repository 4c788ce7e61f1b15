package io.hintlab.host.migration;

import io.hintlab.host.device.FreePageHinting.Admission;
import io.hintlab.host.device.HintSink;
import io.hintlab.host.races.RaceDetector;
import io.hintlab.host.races.RaceKind;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * The {@link HintSink} a migration plugs into the device (host mode migrate). While pre-copy runs
 * it mirrors qemu_guest_free_page_hint(): the hinted pages' bits of the migration bitmap are
 * cleared, never set ({@link PageLedger#hint}). Outside pre-copy hints are counted and dropped:
 * QEMU returns unless a migration is running, and blocks hint processing while the VM is stopped
 * (virtio_balloon_set_status() sets block_iothread).
 *
 * <p>Every range whose hint the detector flags is also logged to the device's race log as a
 * {@link RaceKind#STALE_HINT}: its id was issued before the latest bitmap sync.
 *
 * <p><b>Note:</b> called by the device with its FreePageHinting lock held, one batch at a time.
 */
final class MigrationHintSink implements HintSink {
  private final PageLedger ledger;
  private final BooleanSupplier precopyRunning;
  private final RaceDetector races;
  private final AtomicLong ignoredPages = new AtomicLong();
  private Admission admission = Admission.CURRENT; // guarded by the FreePageHinting lock

  MigrationHintSink(PageLedger ledger, BooleanSupplier precopyRunning, RaceDetector races) {
    this.ledger = ledger;
    this.precopyRunning = precopyRunning;
    this.races = races;
  }

  @Override
  public void beginBatch(int cmdId, Admission how) {
    this.admission = how;
  }

  @Override
  public void applyHint(long pfn, long nrPages, int cmdId) {
    if (!precopyRunning.getAsBoolean()) {
      ignoredPages.addAndGet(nrPages);
      return;
    }
    PageLedger.HintEffect e = ledger.hint(pfn, nrPages, cmdId, admission == Admission.STALE_ID);
    if (e.flagged() > 0) {
      races.record(RaceKind.STALE_HINT, pfn,
          "migration: hint under id 0x" + Integer.toHexString(cmdId) + " (" + admission
              + ") cleared " + e.flagged() + " bitmap bits after a sync newer than the id");
    }
  }

  @Override
  public void endBatch() {
    admission = Admission.CURRENT;
  }

  /** Hinted pages dropped because pre-copy was not running. */
  long ignoredPages() {
    return ignoredPages.get();
  }
}
