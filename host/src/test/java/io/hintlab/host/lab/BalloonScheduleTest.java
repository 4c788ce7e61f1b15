package io.hintlab.host.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class BalloonScheduleTest {
  private static final long GIB = 1L << 30;

  @Test
  void parsesSizesAndPercentagesIntoBalloonPages() {
    BalloonSchedule s = BalloonSchedule.parse(List.of("10=256M", "20=50%", "30=0"));
    assertEquals(3, s.steps().size());
    assertEquals(10, s.steps().get(0).atSeconds());
    assertEquals(65_536, s.steps().get(0).pages(GIB), "256 MiB in 4 KiB pages");
    assertEquals(131_072, s.steps().get(1).pages(GIB), "half of 1 GiB");
    assertEquals(0, s.steps().get(2).pages(GIB));
    assertEquals("10=256M,20=50%,30=0", s.toString());
  }

  @Test
  void refusesMalformedStepsNamingTheOption() {
    for (String bad : List.of("10", "=50%", "x=5M", "10=5GB", "10=101%")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> BalloonSchedule.parse(List.of(bad)), bad);
      assertTrue(e.getMessage().startsWith("--balloon-schedule: '" + bad + "'"),
          e.getMessage());
    }
  }

  @Test
  void refusesTimesThatDoNotIncrease() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BalloonSchedule.parse(List.of("20=10%", "20=20%")));
    assertEquals("--balloon-schedule: times must increase, but 20=20% follows 20=10%",
        e.getMessage());
  }

  @Test
  void checkRefusesStepsAfterTheRunOrLargerThanTheGuest() {
    BalloonSchedule late = BalloonSchedule.parse(List.of("30=10%"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> late.check(GIB, 30));
    assertTrue(e.getMessage().contains("not before the end of the run (--seconds 30)"),
        e.getMessage());
    BalloonSchedule big = BalloonSchedule.parse(List.of("5=2G"));
    e = assertThrows(IllegalArgumentException.class, () -> big.check(GIB, 30));
    assertTrue(e.getMessage().contains("larger than the guest's memory (--memory 1G)"),
        e.getMessage());
  }

  @Test
  void balloonWorkloadDefaultInflatesToAQuarterThenHalfThenDeflates() {
    assertEquals("15=25%,30=50%,45=0%", BalloonSchedule.quarterHalfZero(60).toString());
    assertEquals("1=50%,2=0%", BalloonSchedule.quarterHalfZero(3).toString(),
        "a short run keeps the steps that fit in whole seconds");
    BalloonSchedule.quarterHalfZero(3).check(GIB, 3);
  }
}
