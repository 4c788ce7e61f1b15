package io.hintlab.guest.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class StepPacerTest {
  private static final long MS = 1_000_000L;

  @Test
  void shouldNeverWaitWhenUnpaced() {
    StepPacer p = new StepPacer(0);
    assertFalse(p.paced());
    for (int i = 0; i < 1000; i++) {
      assertEquals(0, p.step(0));
    }
  }

  @Test
  void shouldDueStepNAtStartPlusNOverTheRate() {
    StepPacer p = new StepPacer(1000); // a step a millisecond
    assertTrue(p.paced());
    long t0 = 5_000 * MS;
    assertEquals(MS, p.step(t0), "the first step starts the schedule; the next is due 1 ms on");
    for (int i = 2; i <= 10; i++) {
      p.step(t0); // ten steps at once: the thread is 10 ms ahead
    }
    assertEquals(11 * MS - 3 * MS, p.step(t0 + 3 * MS), "step 11 is due at 11 ms");
  }

  @Test
  void shouldNotWaitWhileBehindTheSchedule() {
    StepPacer p = new StepPacer(1000);
    long t0 = 0;
    p.step(t0);
    assertEquals(0, p.step(t0 + 50 * MS), "50 ms late for step 2: no wait");
    assertEquals(0, p.step(t0 + 51 * MS), "still behind: catching up without waiting");
  }

  @Test
  void shouldRestartTheScheduleRatherThanBurstAfterALongStall() {
    StepPacer p = new StepPacer(1000);
    p.step(0);
    // a pause of one second: 999 steps behind
    assertEquals(0, p.step(1000 * MS));
    // the schedule restarted there: the next step is due 1 ms later, not at once
    assertEquals(MS, p.step(1000 * MS));
  }

  @Test
  void shouldRejectANegativeRate() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new StepPacer(-1));
    assertEquals("step rate must be >= 0, got -1", e.getMessage());
  }
}
