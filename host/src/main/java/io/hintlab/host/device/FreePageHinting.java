package io.hintlab.host.device;

import static io.hintlab.host.device.HintStatus.S_DONE;
import static io.hintlab.host.device.HintStatus.S_REQUESTED;
import static io.hintlab.host.device.HintStatus.S_START;
import static io.hintlab.host.device.HintStatus.S_STOP;
import static io.hintlab.host.device.VirtioBalloon.VIRTIO_BALLOON_CMD_ID_DONE;
import static io.hintlab.host.device.VirtioBalloon.VIRTIO_BALLOON_CMD_ID_STOP;
import static io.hintlab.host.device.VirtioBalloon.VIRTIO_BALLOON_FREE_PAGE_HINT_CMD_ID_MIN;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The device side of free page hinting, with QEMU's states and id rules (hw/virtio/virtio-balloon.c
 * virtio_balloon_free_page_start/stop/done, get_free_page_hints, get_config).
 *
 * <p>Transition table (status in one atomic field, changed only by the named methods below):
 *
 * <pre>
 * from \ event   requestNewCmdId()  stop()   done()   guestStart(id==cur)  guestStart(other)  guestStop()
 * S_STOP         S_REQUESTED, id++  -        S_DONE   stale                stale              stale
 * S_REQUESTED    S_REQUESTED, id++  S_STOP   S_DONE   S_START              stale              stale
 * S_START        S_REQUESTED, id++  S_STOP   S_DONE   S_STOP (QEMU)        S_STOP (QEMU)      S_STOP
 * S_DONE         S_REQUESTED, id++  S_STOP   S_DONE   stale                stale              stale
 * </pre>
 *
 * <p>Ids: the first round uses 0x80000000 (CMD_ID_MIN); each new round increments, wrapping from
 * 0xFFFFFFFF back to CMD_ID_MIN, so the reserved STOP (0) and DONE (1) are never issued. The config
 * space reads the id in S_REQUESTED, STOP in S_STOP, DONE in S_DONE and 0 in S_START (QEMU's
 * get_config leaves the field zeroed there; a driver only re-reads it on a config change).
 * Hinted ranges are applied only in S_START with the current id; others are stale, ignored and
 * counted (spec: "MUST ignore pages with an id not equal to the current one").
 *
 * <p>Assumptions and guarantees: every transition and every hint application holds this object's
 * lock, so after {@link #stop()} returns no hint of the stopped round is applied; listeners run with
 * the lock held and must not call back.
 */
public final class FreePageHinting {
  /** Sees status changes (for config-change notifications and tests). */
  @FunctionalInterface
  public interface Listener {
    /** Status went from {@code from} to {@code to}; {@code cmdId} is the current round id. */
    void onStatusChange(HintStatus from, HintStatus to, int cmdId);
  }

  /** Migration notifier events (QEMU PrecopyNotifyReason). */
  public enum PrecopyEvent {
    SETUP,
    BEFORE_BITMAP_SYNC,
    AFTER_BITMAP_SYNC,
    CLEANUP,
    COMPLETE
  }

  /** What happened to one Hint call. */
  public record Result(int hostCmdId, int applied, int ignored) {}

  private final AtomicReference<HintStatus> status = new AtomicReference<>(S_STOP);
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private final AtomicLong staleHintRanges = new AtomicLong();
  private final AtomicLong staleCmdIds = new AtomicLong();
  private final AtomicLong appliedRanges = new AtomicLong();
  private final AtomicLong rounds = new AtomicLong();
  private volatile int cmdId = VIRTIO_BALLOON_FREE_PAGE_HINT_CMD_ID_MIN - 1;
  private volatile HintSink sink = HintSink.NONE;

  /** Current status. */
  public HintStatus status() {
    return status.get();
  }

  /** The current round's id (meaningful once a round was requested). */
  public int cmdId() {
    return cmdId;
  }

  /** The value of config.free_page_hint_cmd_id, as QEMU's get_config computes it. */
  public int configCmdId() {
    return switch (status.get()) {
      case S_REQUESTED -> cmdId;
      case S_STOP -> VIRTIO_BALLOON_CMD_ID_STOP;
      case S_DONE -> VIRTIO_BALLOON_CMD_ID_DONE;
      case S_START -> 0;
    };
  }

  /**
   * The device's current command id as a hint queue answer reports it (device.proto
   * HintResponse.host_cmd_id): the round's id while it is requested or started, STOP or DONE
   * otherwise. Unlike {@link #configCmdId()} (QEMU's get_config leaves the field 0 in S_START),
   * an answer during a started round must not read as STOP, or a driver that checks it would end
   * every round right after its start.
   */
  public int currentCmdId() {
    return switch (status.get()) {
      case S_REQUESTED, S_START -> cmdId;
      case S_STOP -> VIRTIO_BALLOON_CMD_ID_STOP;
      case S_DONE -> VIRTIO_BALLOON_CMD_ID_DONE;
    };
  }

  /** Replaces the sink hints are applied to; waits for a hint being applied to finish. */
  public synchronized void setSink(HintSink sink) {
    this.sink = sink == null ? HintSink.NONE : sink;
  }

  /** The current sink. */
  public HintSink sink() {
    return sink;
  }

  /** Adds a listener. */
  public void addListener(Listener l) {
    listeners.add(l);
  }

  /** Removes a listener. */
  public void removeListener(Listener l) {
    listeners.remove(l);
  }

  /** Starts a round: next id (wrapping to CMD_ID_MIN), S_REQUESTED. Mirrors free_page_start(). */
  public synchronized int requestNewCmdId() {
    int next = cmdId == -1 /* 0xFFFFFFFF */ ? VIRTIO_BALLOON_FREE_PAGE_HINT_CMD_ID_MIN : cmdId + 1;
    if (Integer.compareUnsigned(next, VIRTIO_BALLOON_FREE_PAGE_HINT_CMD_ID_MIN) < 0) {
      next = VIRTIO_BALLOON_FREE_PAGE_HINT_CMD_ID_MIN;
    }
    cmdId = next;
    rounds.incrementAndGet();
    transition(S_REQUESTED);
    return next;
  }

  /** Stops the round (hinted pages stay with the guest). Mirrors free_page_stop(). */
  public synchronized void stop() {
    if (status.get() != S_STOP) {
      transition(S_STOP);
    }
  }

  /** Ends hinting: the guest releases hinted pages. Mirrors free_page_done(). */
  public synchronized void done() {
    transition(S_DONE);
  }

  /**
   * Mirrors virtio_balloon_free_page_hint_notify(): stop before every bitmap sync, a new round
   * after it (or DONE when the VM is stopped), DONE on cleanup.
   */
  public synchronized void precopyNotify(PrecopyEvent event, boolean vmRunning) {
    switch (event) {
      case BEFORE_BITMAP_SYNC -> stop();
      case AFTER_BITMAP_SYNC -> {
        if (vmRunning) {
          requestNewCmdId();
        } else {
          done();
        }
      }
      case CLEANUP -> done();
      case SETUP, COMPLETE -> {}
    }
  }

  /**
   * The driver's start outbuf carrying {@code id}. Mirrors get_free_page_hints(): S_REQUESTED with
   * the current id starts the round; any outbuf while started stops it; else it is stale.
   *
   * @return true if the status changed
   */
  public synchronized boolean guestStart(int id) {
    HintStatus s = status.get();
    if (s == S_REQUESTED && id == cmdId) {
      transition(S_START);
      return true;
    }
    if (s == S_START) {
      transition(S_STOP);
      return true;
    }
    staleCmdIds.incrementAndGet();
    return false;
  }

  /** The driver's STOP outbuf: ends a started round; a stale stop is ignored and counted. */
  public synchronized boolean guestStop() {
    if (status.get() == S_START) {
      transition(S_STOP);
      return true;
    }
    staleCmdIds.incrementAndGet();
    return false;
  }

  /**
   * Applies hinted ranges if {@code id} is current and the round is started; otherwise counts them
   * stale and applies none. {@code pfns[i]}, {@code nrPages[i]} must already be validated.
   */
  public synchronized Result applyHints(int id, long[] pfns, long[] nrPages)
      throws BalloonException {
    int n = pfns.length;
    if (status.get() != S_START || id != cmdId) {
      staleHintRanges.addAndGet(n);
      return new Result(currentCmdId(), 0, n);
    }
    HintSink s = sink;
    s.beginBatch(id);
    for (int i = 0; i < n; i++) {
      s.applyHint(pfns[i], nrPages[i], id);
    }
    s.endBatch();
    appliedRanges.addAndGet(n);
    return new Result(currentCmdId(), n, 0);
  }

  /** Whether {@code id} is current and the round started (hints would be applied). */
  public boolean isActive(int id) {
    return status.get() == S_START && id == cmdId;
  }

  /** Hinted ranges ignored: stale id or not started. */
  public long staleHintRanges() {
    return staleHintRanges.get();
  }

  /** Start/stop outbufs ignored as stale. */
  public long staleCmdIds() {
    return staleCmdIds.get();
  }

  /** Hinted ranges applied. */
  public long appliedRanges() {
    return appliedRanges.get();
  }

  /** Rounds requested. */
  public long rounds() {
    return rounds.get();
  }

  // Locking: called with this held by every named transition method.
  private void transition(HintStatus to) {
    HintStatus from = status.getAndSet(to);
    for (Listener l : listeners) {
      l.onStatusChange(from, to, cmdId);
    }
  }
}
