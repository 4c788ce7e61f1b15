package io.hintlab.host.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.proto.v1.GuestStatus;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class GuestWatchTest {

  private static GuestStatus status(long rss, long peak, long refaults) {
    return GuestStatus.newBuilder().setRssBytes(rss).setRssPeakBytes(peak)
        .putCounters("refaults", refaults).build();
  }

  @Test
  void endIsTheLastSampleALaterAnswerConfirmedNotTheLastAnswer() {
    GuestWatch w = new GuestWatch();
    w.sampled(0.1, status(300, 300, 0));
    assertEquals(OptionalLong.empty(), w.endBytes(), "nothing confirmed yet");
    w.sampled(0.2, status(50, 300, 0));
    assertEquals(OptionalLong.of(300), w.endBytes());
    // the detach raced with this answer: the host read its closed RAM file as 0 bytes
    w.sampled(0.3, status(0, 300, 1));
    w.gone();
    assertEquals(OptionalLong.of(50), w.endBytes());
    assertEquals(3, w.samples());
    assertEquals(1, w.counters().get("refaults"), "counters come from the latest answer");
  }

  @Test
  void peakIsTheHostsPeakWhichCoversTheTimeBetweenSamples() {
    GuestWatch w = new GuestWatch();
    w.sampled(0.1, status(100, 400, 0));
    w.sampled(0.2, status(120, 400, 0));
    assertEquals(400, w.peakBytes());
    assertEquals(120, w.latestBytes());
  }

  @Test
  void seriesKeepsTheLastConfirmedSampleOfEachSecond() {
    GuestWatch w = new GuestWatch();
    double[] times = {0.1, 0.5, 0.9, 1.2, 2.4, 2.6};
    long rss = 10;
    for (double t : times) {
      w.sampled(t, status(rss++, 100, 0));
    }
    // 2.6 is unconfirmed; 0.9 is the last of second 0, 1.2 of second 1, 2.4 of second 2
    assertEquals(List.of(new GuestWatch.Sample(0.9, 12), new GuestWatch.Sample(1.2, 13),
        new GuestWatch.Sample(2.4, 14)), w.series());
  }

  @Test
  void aGuestSeenGoneTakesNoMoreSamples() {
    GuestWatch w = new GuestWatch();
    w.gone();
    assertTrue(w.isGone());
    assertEquals(OptionalLong.empty(), w.endBytes());
    assertThrows(IllegalStateException.class, () -> w.sampled(1, status(1, 1, 0)));
  }
}
