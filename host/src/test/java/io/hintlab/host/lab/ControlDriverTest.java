package io.hintlab.host.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ControlDriverTest {
  private static final long GIB = 1L << 30;

  /** Records the calls; refuses the ones named in {@code refuse}. */
  private static final class FakeHost implements ControlDriver.Calls {
    final List<String> calls = new ArrayList<>();
    final List<String> refuse = new ArrayList<>();

    private void call(String what) {
      calls.add(what);
      if (refuse.contains(what.split(" ")[0])) {
        throw new IllegalStateException("FAILED_PRECONDITION: not negotiated");
      }
    }

    @Override
    public void setBalloonTarget(long pages) {
      call("target " + pages);
    }

    @Override
    public void startHinting() {
      call("start");
    }

    @Override
    public void stopHinting(boolean done) {
      call(done ? "done" : "stop");
    }
  }

  /** Ticks every 100 ms from 0 to {@code until} seconds, as the pair's loop does. */
  private static void run(ControlDriver d, FakeHost h, double until) {
    for (int tenth = 0; tenth <= Math.round(until * 10); tenth++) {
      d.tick(tenth / 10.0, h);
    }
  }

  @Test
  void balloonStepsAreSetOnceEachWhenDue() {
    ControlDriver d = new ControlDriver(BalloonSchedule.parse(List.of("1=25%", "2=0")),
        HintPlan.none(), GIB);
    FakeHost h = new FakeHost();
    run(d, h, 1.5);
    assertEquals(List.of("target 65536"), h.calls);
    run(d, h, 5);
    assertEquals(List.of("target 65536", "target 0"), h.calls);
    assertEquals(2, d.balloonStepsApplied());
  }

  @Test
  void hintingRoundsStartEveryPeriodAndEndWithDoneAfterTheHold() {
    ControlDriver d = new ControlDriver(BalloonSchedule.none(), new HintPlan(3, 1), GIB);
    FakeHost h = new FakeHost();
    run(d, h, 7.05);
    assertEquals(List.of("start", "done", "start", "done"), h.calls);
    assertEquals(2, d.hintRoundsStarted());
    assertEquals(List.of(), d.errors());
  }

  @Test
  void refusedStartHintingEndsTheRoundsAndIsReported() {
    ControlDriver d = new ControlDriver(BalloonSchedule.none(), new HintPlan(2, 1), GIB);
    FakeHost h = new FakeHost();
    h.refuse.add("start");
    run(d, h, 9);
    assertEquals(List.of("start"), h.calls, "no retry after the host refused");
    assertEquals(0, d.hintRoundsStarted());
    assertEquals(List.of("StartHinting failed: FAILED_PRECONDITION: not negotiated; no more "
        + "hinting rounds"), d.errors());
  }

  @Test
  void refusedBalloonStepIsReportedAndLaterStepsStillRun() {
    ControlDriver d = new ControlDriver(BalloonSchedule.parse(List.of("1=10%", "2=0")),
        HintPlan.none(), GIB);
    FakeHost h = new FakeHost();
    h.refuse.add("target");
    run(d, h, 3);
    assertEquals(2, h.calls.size());
    assertEquals(0, d.balloonStepsApplied());
    assertTrue(d.errors().getFirst().startsWith("SetBalloonTarget 1=10% failed"),
        d.errors().toString());
  }

  @Test
  void hintPlanRefusesAHoldNotShorterThanThePeriod() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new HintPlan(5, 5));
    assertEquals("--hint-hold must be at least 1 and less than --hint-every (5), got 5",
        e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new HintPlan(-1, 0));
  }
}
