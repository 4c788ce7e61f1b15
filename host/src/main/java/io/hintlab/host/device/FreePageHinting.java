package io.hintlab.host.device;

import static io.hintlab.host.device.HintStatus.S_DONE;
import static io.hintlab.host.device.HintStatus.S_REQUESTED;
import static io.hintlab.host.device.HintStatus.S_START;
import static io.hintlab.host.device.HintStatus.S_STOP;
import static io.hintlab.host.device.VirtioBalloon.VIRTIO_BALLOON_CMD_ID_DONE;
import static io.hintlab.host.device.VirtioBalloon.VIRTIO_BALLOON_CMD_ID_STOP;
import static io.hintlab.host.device.VirtioBalloon.VIRTIO_BALLOON_FREE_PAGE_HINT_CMD_ID_MIN;

import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
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
 * S_REQUESTED    S_REQUESTED, id++  S_STOP   S_DONE   S_START              stale *            stale
 * S_START        S_REQUESTED, id++  S_STOP   S_DONE   S_STOP (QEMU)        S_STOP (QEMU)      S_STOP
 * S_DONE         S_REQUESTED, id++  S_STOP   S_DONE   stale                stale              stale
 * </pre>
 *
 * <p>{@code *} S_START instead with {@link Relaxation#ACCEPT_STALE_IDS}, for an id of the round
 * range (not STOP or DONE): the device takes an old round's START for the current one.
 *
 * <p>Ids: the first round uses 0x80000000 (CMD_ID_MIN); each new round increments, wrapping from
 * 0xFFFFFFFF back to CMD_ID_MIN, so the reserved STOP (0) and DONE (1) are never issued. The config
 * space reads the id in S_REQUESTED, STOP in S_STOP, DONE in S_DONE and 0 in S_START (QEMU's
 * get_config leaves the field zeroed there; a driver only re-reads it on a config change).
 * Hinted ranges are applied only in S_START with the current id; others are stale, ignored and
 * counted (spec: "MUST ignore pages with an id not equal to the current one").
 *
 * <p>Admission of a hinted range (what {@link #applyHints} does with it), first rule that fits:
 *
 * <pre>
 * status                id                                   admission
 * S_START               == cmdId                             CURRENT
 * S_STOP, S_REQUESTED   == id of the last round started **   LATE_AFTER_STOP
 * S_START               != cmdId *                           STALE_ID
 * anything else (S_DONE included)                            IGNORED
 * </pre>
 *
 * <p>Without relaxations only the CURRENT rule exists (QEMU: inbufs are used only in S_START,
 * which only a START with the current id reaches). {@code *} only with
 * {@link Relaxation#ACCEPT_STALE_IDS}; {@code **} only with {@link Relaxation#APPLY_ACROSS_SYNC}:
 * the late hints of the round the driver started last, which STOP should have cut off. The
 * relaxations are fault injection for the migration lab
 * ({@code io.hintlab.host.migration.GuardSwitches}): each turns off one guard so users can see
 * what it buys.
 *
 * <p>Assumptions and guarantees: every transition and every hint application holds this object's
 * lock, so after {@link #stop()} returns no hint of the stopped round is applied (unless
 * APPLY_ACROSS_SYNC is set); listeners run with the lock held and must not call back. Callers may
 * hold this lock around a transition to make it atomic with their own bookkeeping (the migration
 * engine does, to open a new hinting epoch right after the bitmap sync).
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

  /** How a hinted range passed (or failed) the device's checks; see the admission table. */
  public enum Admission {
    /** The current id while its round is started: applied, as QEMU does. */
    CURRENT,
    /** The last started round's id after STOP: applied only with APPLY_ACROSS_SYNC. */
    LATE_AFTER_STOP,
    /** Not the current id while a round is started: applied only with ACCEPT_STALE_IDS. */
    STALE_ID,
    /** Not applied (QEMU's rule). */
    IGNORED
  }

  /** Fault injection: each value turns off one of QEMU's guards. Never set in normal runs. */
  public enum Relaxation {
    /**
     * Hints of the last started round are still applied after STOP, so they may land after the
     * bitmap sync that follows the STOP (QEMU drops them: inbufs are used only in S_START).
     */
    APPLY_ACROSS_SYNC,
    /**
     * A START carrying an old round's id starts a round, and hints under ids other than the
     * current one are applied while a round is started (QEMU checks the id of the START outbuf;
     * the spec says the device "MUST ignore pages with an id not equal to the current one").
     */
    ACCEPT_STALE_IDS
  }

  private final AtomicReference<HintStatus> status = new AtomicReference<>(S_STOP);
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private final AtomicLong staleHintRanges = new AtomicLong();
  private final AtomicLong staleCmdIds = new AtomicLong();
  private final AtomicLong appliedRanges = new AtomicLong();
  private final AtomicLong rounds = new AtomicLong();
  private final AtomicLong relaxedRanges = new AtomicLong();
  private volatile int cmdId = VIRTIO_BALLOON_FREE_PAGE_HINT_CMD_ID_MIN - 1;
  private volatile Set<Relaxation> relaxations = Set.of();
  private int lastStartedId; // guarded by this; meaningful once anyStarted
  private boolean anyStarted; // guarded by this
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

  /**
   * Sets the guards to turn off (fault injection, see {@link Relaxation}); an empty set restores
   * QEMU's behaviour. Waits for a hint being applied to finish.
   */
  public synchronized void setRelaxations(Set<Relaxation> turnedOff) {
    this.relaxations =
        turnedOff.isEmpty()
            ? Set.of()
            : Collections.unmodifiableSet(EnumSet.copyOf(turnedOff));
  }

  /** The guards now turned off (empty in normal runs). */
  public Set<Relaxation> relaxations() {
    return relaxations;
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
   * the current id starts the round (any round id with ACCEPT_STALE_IDS); any outbuf while started
   * stops it; else it is stale.
   *
   * @return true if the status changed
   */
  public synchronized boolean guestStart(int id) {
    HintStatus s = status.get();
    if (s == S_REQUESTED && (id == cmdId || acceptsStaleStart(id))) {
      lastStartedId = id;
      anyStarted = true;
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

  // With ACCEPT_STALE_IDS an old round's id (never STOP or DONE) passes the START check.
  private boolean acceptsStaleStart(int id) {
    return relaxations.contains(Relaxation.ACCEPT_STALE_IDS)
        && Integer.compareUnsigned(id, VIRTIO_BALLOON_FREE_PAGE_HINT_CMD_ID_MIN) >= 0;
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
   * Applies hinted ranges if {@code id} is current and the round is started (or if a
   * {@link Relaxation} admits them, see the admission table); otherwise counts them stale and
   * applies none. {@code pfns[i]}, {@code nrPages[i]} must already be validated.
   */
  public synchronized Result applyHints(int id, long[] pfns, long[] nrPages)
      throws BalloonException {
    int n = pfns.length;
    Admission admission = admit(id);
    if (admission == Admission.IGNORED) {
      staleHintRanges.addAndGet(n);
      return new Result(currentCmdId(), 0, n);
    }
    HintSink s = sink;
    s.beginBatch(id, admission);
    for (int i = 0; i < n; i++) {
      s.applyHint(pfns[i], nrPages[i], id);
    }
    s.endBatch();
    appliedRanges.addAndGet(n);
    if (admission != Admission.CURRENT) {
      relaxedRanges.addAndGet(n);
    }
    return new Result(currentCmdId(), n, 0);
  }

  /**
   * What {@link #applyHints} would do with a range hinted under {@code id} now (the admission
   * table); mirrors get_free_page_hints(), which uses inbufs only in S_START.
   */
  public synchronized Admission admit(int id) {
    HintStatus s = status.get();
    if (s == S_START && id == cmdId) {
      return Admission.CURRENT;
    }
    Set<Relaxation> off = relaxations;
    if (off.contains(Relaxation.APPLY_ACROSS_SYNC)
        && anyStarted
        && id == lastStartedId
        && (s == S_STOP || s == S_REQUESTED)) {
      return Admission.LATE_AFTER_STOP;
    }
    if (off.contains(Relaxation.ACCEPT_STALE_IDS) && s == S_START) {
      return Admission.STALE_ID;
    }
    return Admission.IGNORED;
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

  /** Hinted ranges applied (those admitted by a relaxation included). */
  public long appliedRanges() {
    return appliedRanges.get();
  }

  /** Hinted ranges applied only because a {@link Relaxation} admitted them (QEMU drops them). */
  public long relaxedRanges() {
    return relaxedRanges.get();
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
