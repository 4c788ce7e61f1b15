package io.hintlab.guest.driver;

import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_CMD_ID_DONE;
import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_CMD_ID_STOP;
import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_FREE_PAGE_HINT;
import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_FREE_PAGE_HINT_CMD_ID_MIN;
import static io.hintlab.guest.transport.VirtioBalloon.bit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.hintlab.guest.reporting.ReportException;
import io.hintlab.guest.transport.CallDeadlines;
import io.hintlab.guest.transport.DeviceClient;
import io.hintlab.guest.transport.DriverWishes;
import io.hintlab.guest.transport.TransportException;
import io.hintlab.proto.v1.HintRequest;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Free page hint command ids ({@code virtballoon_changed()} -> {@code report_free_page_func()}):
 * the first config's id and every later change go to the hint target, on the driver's thread,
 * only with FREE_PAGE_HINT; and {@link DeviceHintSink}, the free page virtqueue the target sends
 * through.
 */
class HintCommandTest {
  private static final int ROUND = VIRTIO_BALLOON_FREE_PAGE_HINT_CMD_ID_MIN;

  @Test
  void shouldForwardTheFirstIdAndEveryChangeWhenFreePageHintWasNegotiated() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      RecordingHintTarget t = new RecordingHintTarget();
      BalloonDriver d = f.create(DriverOptions.defaults());
      d.setHintTarget(t);
      d.start();
      assertTrue(f.await(() -> t.ids.size() == 1), "first config: " + t.ids);
      f.fake.setCmdId(ROUND);
      assertTrue(f.await(() -> t.ids.size() == 2), "new round: " + t.ids);
      f.fake.setTarget(5); // a config change that leaves the id alone
      assertTrue(f.awaitSettled(5));
      f.fake.setCmdId(VIRTIO_BALLOON_CMD_ID_DONE);
      assertTrue(f.await(() -> t.ids.size() == 3), "done: " + t.ids);
      assertEquals(List.of(VIRTIO_BALLOON_CMD_ID_STOP, ROUND, VIRTIO_BALLOON_CMD_ID_DONE), t.ids);
      assertTrue(t.threads.stream().allMatch(BalloonDriver.THREAD_NAME::equals), "" + t.threads);
    }
  }

  @Test
  void shouldForwardNoIdWhenFreePageHintWasNotNegotiated() throws Exception {
    long offered = FakeDevice.ALL_FEATURES & ~bit(VIRTIO_BALLOON_F_FREE_PAGE_HINT);
    try (DriverFixture f = new DriverFixture(64L << 20, offered, DriverWishes.linuxDefaults(),
        CallDeadlines.uniform(Duration.ofSeconds(2)))) {
      RecordingHintTarget t = new RecordingHintTarget();
      BalloonDriver d = f.create(DriverOptions.defaults());
      d.setHintTarget(t);
      d.start();
      f.fake.setCmdId(ROUND);
      f.fake.setTarget(7); // the driver has run the work queued after the id changed
      assertTrue(f.awaitSettled(7));
      assertEquals(List.of(), t.ids);
    }
  }

  @Test
  void shouldSendStartRangesAndStopThroughTheFreePageQueue() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      f.fake.setCmdId(ROUND);
      DeviceHintSink sink = new DeviceHintSink(f.client);
      assertEquals(ROUND, sink.start(ROUND));
      assertEquals(ROUND, sink.hint(ROUND, new long[] {1024, 2048}, new int[] {10, 10}, 2));
      sink.stop();
      List<HintRequest> h = f.fake.hints;
      assertEquals(3, h.size());
      assertEquals(ROUND, h.get(0).getStartCmdId());
      assertEquals(2, h.get(1).getRanges().getRangesCount());
      assertEquals(ROUND, h.get(1).getRanges().getCmdId());
      assertTrue(h.get(2).getStop());
    }
  }

  @Test
  void shouldSplitHintsLargerThanTheQueueAndStopOnceTheDeviceMovesOn() throws Exception {
    long seed = 20260817L;
    Random rnd = new Random(seed);
    try (DriverFixture f = DriverFixture.standard()) {
      f.fake.setCmdId(ROUND);
      DeviceHintSink sink = new DeviceHintSink(f.client);
      int n = DeviceClient.MAX_HINT_RANGES * 2 + 1 + rnd.nextInt(100);
      long[] pfns = new long[n];
      int[] orders = new int[n];
      for (int i = 0; i < n; i++) {
        pfns[i] = (long) i << 10;
        orders[i] = 10;
      }
      assertEquals(ROUND, sink.hint(ROUND, pfns, orders, n));
      assertEquals(List.of(1024, 1024, n - 2048), f.fake.hints.stream()
          .map(r -> r.getRanges().getRangesCount()).toList(), "seed " + seed);

      f.fake.setCmdId(VIRTIO_BALLOON_CMD_ID_DONE); // the device moved on
      int before = f.fake.hints.size();
      assertEquals(VIRTIO_BALLOON_CMD_ID_DONE, sink.hint(ROUND, pfns, orders, n));
      assertEquals(before + 1, f.fake.hints.size(), "seed " + seed + ": the rest is not sent");
    }
  }

  @Test
  void shouldTurnAFailedCallOrAMissingSessionIntoAReportException() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      DeviceHintSink sink = new DeviceHintSink(f.client);
      f.fake.failNext(FakeDevice.Rpc.HINT, Status.Code.UNAVAILABLE);
      ReportException e = assertThrows(ReportException.class, () -> sink.start(ROUND));
      TransportException cause = assertInstanceOf(TransportException.class, e.getCause());
      assertEquals(TransportException.Reason.HOST_GONE, cause.reason());

      f.client.detach();
      ReportException gone = assertThrows(ReportException.class, sink::stop);
      assertEquals(TransportException.Reason.SESSION_LOST,
          ((TransportException) gone.getCause()).reason());
      assertThrows(ReportException.class,
          () -> sink.hint(ROUND, new long[] {0}, new int[] {0}, 1));
      assertThrows(IllegalArgumentException.class,
          () -> sink.hint(ROUND, new long[] {0}, new int[] {0}, 2));
    }
  }
}
