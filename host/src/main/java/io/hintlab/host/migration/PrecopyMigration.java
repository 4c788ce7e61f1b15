package io.hintlab.host.migration;

import io.hintlab.host.device.BalloonDevice;
import io.hintlab.host.device.BalloonException;
import io.hintlab.host.device.BalloonException.Reason;
import io.hintlab.host.device.HostMode;
import io.hintlab.host.device.VirtioBalloon;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pre-copy live migration of one attached guest ({@link BalloonDevice} and its memory) to a
 * destination file, on its own named thread, modelled on QEMU's migration/ram.c:
 *
 * <ol>
 *   <li>Setup: dirty logging on, then the first bitmap sync, whose AFTER_BITMAP_SYNC notifier
 *       issues the first free page hint command id (ram_init_bitmaps()).
 *   <li>Rounds: round 0 sends every page whose migration-bitmap bit is still set (all of them,
 *       minus what hints cleared first); each later round sends what the dirty log marked since
 *       the previous sync. Pages go at the configured bandwidth in real time, so the guest's
 *       hinting races the migration thread; all-zero pages and holes go as cheap zero pages.
 *       Between rounds: STOP, sync, new id (migration_bitmap_sync_precopy()). Hints, while an id
 *       is active, only clear bits (qemu_guest_free_page_hint()).
 *   <li>Switch-over when the remaining dirty set fits downtime limit x bandwidth, or at the round
 *       limit: PAUSE (the guest answers with its owned pages), last sync (DONE, as the VM is
 *       stopped), the rest sent, downtime measured.
 *   <li>Verification: every owned page compared, source against destination; mismatches
 *       attributed and scored against the detector. Then RESUME, and DONE again at cleanup.
 * </ol>
 *
 * <p>Transition table (phase in one atomic field, changed only by the named methods):
 *
 * <pre>
 * from \ method   enterIterating  enterStopAndCopy  enterVerifying  complete   fail    cancel
 * SETUP           ITERATING       -                 -               -          FAILED  CANCELLED
 * ITERATING       -               STOP_AND_COPY     -               -          FAILED  CANCELLED
 * STOP_AND_COPY   -               -                 VERIFYING       -          FAILED  CANCELLED
 * VERIFYING       -               -                 -               COMPLETED  FAILED  CANCELLED
 * terminal        -               -                 -               -          -       -
 * </pre>
 *
 * A transition not in the table throws {@link IllegalStateException}.
 *
 * <p>Assumptions and guarantees:
 *
 * <ol>
 *   <li>At most one migration per guest ({@link BalloonDevice#claimMigration()}); with hinting,
 *       the guest must be in host mode migrate so its hints reach the migration.
 *   <li>The guest answers PAUSE through the device's Paused call with its owned pages; the wait is
 *       bounded by the device's pause timeout. A test can stand in for the guest by implementing
 *       {@link io.hintlab.host.device.DeviceEvents} and calling {@link BalloonDevice#paused}.
 *   <li>Whatever the outcome, the thread ends with the hint sink unplugged, DONE sent (if hinting
 *       was driven), dirty logging off, the guest resumed if the migration paused it, the
 *       destination deleted and the claim released, before {@link #result()} completes.
 *   <li>{@link #stop(Duration)} ends the thread within the given bound unless the guest's memory
 *       calls block; pacing waits and the pause wait are interrupted.
 * </ol>
 */
public final class PrecopyMigration implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PrecopyMigration.class);
  /** How long {@link #close()} waits for the migration thread. */
  public static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(10);

  private final BalloonDevice device;
  private final Consumer<MigrationProgress> listener;
  private final AtomicReference<MigrationPhase> phase =
      new AtomicReference<>(MigrationPhase.SETUP);
  private final AtomicBoolean stopRequested = new AtomicBoolean();
  private final CompletableFuture<MigrationReport> result = new CompletableFuture<>();
  private final Thread thread;

  private PrecopyMigration(BalloonDevice device, MigrationOptions options, boolean hinting,
      Consumer<MigrationProgress> listener) {
    this.device = device;
    this.listener = listener;
    MigrationRun run = new MigrationRun(this, device, options, hinting);
    this.thread = new Thread(() -> runThread(run), "hintlab-migration-" + device.guestId());
    this.thread.setDaemon(true);
  }

  /**
   * Starts migrating {@code device}'s guest.
   *
   * @param listener receives progress on the migration thread; must not block
   * @throws BalloonException WRONG_STATE if a migration of this guest runs already, if hinting is
   *     wanted and negotiated but the guest is not in host mode migrate, or if the guest is too
   *     large for the engine
   */
  public static PrecopyMigration start(BalloonDevice device, MigrationOptions options,
      Consumer<MigrationProgress> listener) throws BalloonException {
    if (device.memory().pages() > Integer.MAX_VALUE - 64) {
      throw new BalloonException(Reason.WRONG_STATE, "guest " + device.guestId() + " has "
          + device.memory().pages() + " pages; a migration handles at most 2^31 - 64");
    }
    // QEMU's precopy notifier is a no-op unless the guest negotiated FREE_PAGE_HINT.
    boolean hinting = options.useHints() && VirtioBalloon.has(device.negotiatedFeatures(),
        VirtioBalloon.VIRTIO_BALLOON_F_FREE_PAGE_HINT);
    if (hinting && device.mode() != HostMode.MIGRATE) {
      throw new BalloonException(Reason.WRONG_STATE, "guest " + device.guestId()
          + " is in host mode " + device.mode() + "; a migration with free page hinting needs"
          + " host mode migrate (SetMode), or no hints");
    }
    if (!device.claimMigration()) {
      throw new BalloonException(Reason.WRONG_STATE,
          "a migration of guest " + device.guestId() + " is already running");
    }
    PrecopyMigration m = new PrecopyMigration(device, options, hinting, listener);
    m.thread.start();
    return m;
  }

  /** The guest being migrated. */
  public String guestId() {
    return device.guestId();
  }

  /** The current phase. */
  public MigrationPhase phase() {
    return phase.get();
  }

  /**
   * The report, once the migration has ended and cleaned up; completes exceptionally with a
   * {@link BalloonException} when it failed or was stopped.
   */
  public CompletableFuture<MigrationReport> result() {
    return result.copy();
  }

  /**
   * Waits for the report.
   *
   * @throws BalloonException why the migration failed (WRONG_STATE if it was stopped)
   * @throws TimeoutException if it has not ended within {@code timeout}
   */
  public MigrationReport await(Duration timeout)
      throws BalloonException, InterruptedException, TimeoutException {
    try {
      return result.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof BalloonException be) {
        throw be;
      }
      throw new BalloonException(Reason.HOST_FAILURE,
          "migration of " + guestId() + " failed: " + e.getCause(), e.getCause());
    }
  }

  /**
   * Asks the migration to stop and waits at most {@code timeout} for its thread to clean up and
   * end. Idempotent; a guest paused by the migration is resumed.
   *
   * @return whether the thread has ended
   */
  public boolean stop(Duration timeout) throws InterruptedException {
    requestStop();
    if (Thread.currentThread() == thread) {
      return false; // a listener asked: the thread sees the flag at its next page
    }
    thread.join(Math.max(1, timeout.toMillis()));
    return !thread.isAlive();
  }

  /**
   * Asks the migration to stop without waiting (for callers that must not block, such as a gRPC
   * cancel handler); the thread then cleans up and ends as with {@link #stop(Duration)}.
   */
  public void requestStop() {
    stopRequested.set(true);
    if (Thread.currentThread() != thread) {
      thread.interrupt(); // ends a pacing wait or the pause wait at once
    }
  }

  /** Stops the migration, waiting at most {@link #DEFAULT_STOP_TIMEOUT}. */
  @Override
  public void close() {
    try {
      if (!stop(DEFAULT_STOP_TIMEOUT)) {
        LOG.warn("migration: {} did not stop within {}", guestId(), DEFAULT_STOP_TIMEOUT);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---- called by MigrationRun on the migration thread ----------------------------------------

  /** Whether pre-copy runs, i.e. hints may clear bits (read by the hint sink). */
  boolean precopyRunning() {
    return phase.get() == MigrationPhase.ITERATING;
  }

  /** Throws {@link MigrationRun.Stopped} if a stop was requested. */
  void checkStop() throws MigrationRun.Stopped {
    if (stopRequested.get()) {
      throw new MigrationRun.Stopped();
    }
  }

  /** SETUP to ITERATING. */
  void enterIterating() {
    transition(MigrationPhase.SETUP, MigrationPhase.ITERATING);
  }

  /** ITERATING to STOP_AND_COPY. */
  void enterStopAndCopy() {
    transition(MigrationPhase.ITERATING, MigrationPhase.STOP_AND_COPY);
  }

  /** STOP_AND_COPY to VERIFYING. */
  void enterVerifying() {
    transition(MigrationPhase.STOP_AND_COPY, MigrationPhase.VERIFYING);
  }

  /** Hands a progress snapshot to the listener; a failing listener is logged, not fatal. */
  void progress(MigrationProgress p) {
    try {
      listener.accept(p);
    } catch (RuntimeException e) {
      LOG.warn("migration: progress listener of {} failed: {}", guestId(), e.toString());
    }
  }

  // ---- the thread -----------------------------------------------------------------------------

  private void runThread(MigrationRun run) {
    MigrationReport report = null;
    BalloonException error = null;
    try {
      report = run.run();
    } catch (BalloonException e) {
      error = e;
    } catch (MigrationRun.Stopped e) {
      error = new BalloonException(Reason.WRONG_STATE,
          "migration of " + guestId() + " was stopped during " + phase.get());
    } catch (RuntimeException e) {
      LOG.error("migration: {} failed", guestId(), e);
      error = new BalloonException(Reason.HOST_FAILURE,
          "migration of " + guestId() + " failed: internal error " + e.getClass().getSimpleName(),
          e);
    } finally {
      device.releaseMigration();
    }
    if (report != null) {
      complete();
      result.complete(report);
      return;
    }
    if (stopRequested.get()) {
      cancel();
    } else {
      fail();
    }
    LOG.info("migration: {} {}: {}", guestId(), phase.get(), error.getMessage());
    result.completeExceptionally(error);
  }

  private void complete() {
    transition(MigrationPhase.VERIFYING, MigrationPhase.COMPLETED);
  }

  private void fail() {
    end(MigrationPhase.FAILED);
  }

  private void cancel() {
    end(MigrationPhase.CANCELLED);
  }

  private void transition(MigrationPhase from, MigrationPhase to) {
    if (!phase.compareAndSet(from, to)) {
      throw new IllegalStateException(
          "migration of " + guestId() + ": phase " + phase.get() + " cannot go to " + to);
    }
  }

  // Any non-terminal phase to FAILED or CANCELLED.
  private void end(MigrationPhase to) {
    MigrationPhase was = phase.getAndUpdate(p -> p.terminal() ? p : to);
    if (was.terminal()) {
      throw new IllegalStateException(
          "migration of " + guestId() + ": phase " + was + " cannot go to " + to);
    }
  }
}
