package io.hintlab.host.lab;

import java.util.ArrayList;
import java.util.List;

/**
 * Applies a {@link BalloonSchedule} and a {@link HintPlan} from the pair's sampling loop: each
 * {@link #tick} makes the calls that are due. A refused call is recorded (the run goes on, and
 * the summary lists it); a refused {@code StartHinting} ends the hinting rounds, because the
 * host refuses for a reason a retry will not change (e.g. FREE_PAGE_HINT not negotiated).
 *
 * <p><b>Note:</b> not thread-safe; called only from the pair's loop.
 */
final class ControlDriver {

  /** The host control calls the driver makes (each with its own deadline). */
  interface Calls {
    /** {@code SetBalloonTarget} in 4 KiB pages. */
    void setBalloonTarget(long pages);

    /** {@code StartHinting}. */
    void startHinting();

    /** {@code StopHinting}; {@code done} releases the guest's hinted blocks. */
    void stopHinting(boolean done);
  }

  private final List<BalloonSchedule.Step> steps;
  private final HintPlan hints;
  private final long memoryBytes;
  private final List<String> errors = new ArrayList<>();
  private int nextStep;
  private int balloonStepsApplied;
  private int hintRoundsStarted;
  private boolean hinting;
  private double nextHintStart;
  private double hintStopAt = -1;

  ControlDriver(BalloonSchedule balloon, HintPlan hints, long memoryBytes) {
    this.steps = balloon.steps();
    this.hints = hints;
    this.memoryBytes = memoryBytes;
    this.hinting = hints.enabled();
    this.nextHintStart = hints.everySeconds();
  }

  /**
   * Makes the calls due at {@code elapsedSeconds} after the guest attached.
   *
   * @param elapsedSeconds time since the guest attached
   * @param calls where the calls go
   */
  void tick(double elapsedSeconds, Calls calls) {
    while (nextStep < steps.size() && steps.get(nextStep).atSeconds() <= elapsedSeconds) {
      BalloonSchedule.Step s = steps.get(nextStep++);
      if (attempt("SetBalloonTarget " + s, () -> calls.setBalloonTarget(s.pages(memoryBytes)),
          "")) {
        balloonStepsApplied++;
      }
    }
    if (hintStopAt >= 0 && elapsedSeconds >= hintStopAt) {
      hintStopAt = -1;
      attempt("StopHinting(done)", () -> calls.stopHinting(true), "");
    }
    if (hinting && elapsedSeconds >= nextHintStart) {
      double start = nextHintStart;
      nextHintStart += hints.everySeconds();
      if (attempt("StartHinting", calls::startHinting, "; no more hinting rounds")) {
        hintRoundsStarted++;
        hintStopAt = start + hints.holdSeconds();
      } else {
        hinting = false;
      }
    }
  }

  /** Makes one call; a refusal is recorded as "WHAT failed: WHY" + {@code consequence}. */
  private boolean attempt(String what, Runnable call, String consequence) {
    try {
      call.run();
      return true;
    } catch (RuntimeException e) {
      errors.add(what + " failed: " + e.getMessage() + consequence);
      return false;
    }
  }

  /** Balloon steps the host accepted. */
  int balloonStepsApplied() {
    return balloonStepsApplied;
  }

  /** Hinting rounds the host started. */
  int hintRoundsStarted() {
    return hintRoundsStarted;
  }

  /** What the host refused, in order. */
  List<String> errors() {
    return List.copyOf(errors);
  }
}
