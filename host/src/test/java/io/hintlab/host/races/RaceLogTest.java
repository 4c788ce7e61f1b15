package io.hintlab.host.races;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class RaceLogTest {
  @Test
  void shouldKeepNewestEventsAndCountDropped() {
    RaceLog log = new RaceLog(4);
    for (int i = 0; i < 10; i++) {
      log.append(i % 2 == 0 ? "a" : "b", RaceKind.STALE_HINT, i, "e" + i);
    }
    assertEquals(6, log.dropped());
    List<RaceEvent> all = log.since(0, 100, null);
    assertEquals(List.of(6L, 7L, 8L, 9L), all.stream().map(RaceEvent::sequence).toList());
    assertEquals(List.of(7L, 9L),
        log.since(0, 100, "b").stream().map(RaceEvent::pfn).toList());
    assertEquals(1, log.since(8, 1, "").size());
    assertEquals(0, log.since(10, 5, null).size());
  }

  @Test
  void shouldCountPerKindInDetector() {
    RaceLog log = new RaceLog(8);
    RaceDetector d = new RaceDetector("g", log);
    d.record(RaceKind.WRITTEN_DURING_REPORT, 1, "x");
    d.record(RaceKind.WRITTEN_DURING_REPORT, 2, "x");
    d.record(RaceKind.STALE_HINT, 3, "y");
    assertEquals(2, d.count(RaceKind.WRITTEN_DURING_REPORT));
    assertEquals(3, d.total());
    assertEquals("g", log.since(0, 1, null).get(0).guestId());
  }
}
