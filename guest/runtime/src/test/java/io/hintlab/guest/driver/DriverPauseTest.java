package io.hintlab.guest.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.proto.v1.ConfigEvent;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * PAUSE and RESUME through the driver's config stream: the gate waits for the work item in
 * flight (an inflate the host is being told of), then answers; while paused the driver's thread
 * runs no work (a new target is not followed) and the stats timer sends nothing, for as long as
 * the heartbeat keeps ticking; RESUME lets both go on. A SHUTDOWN releases a paused guest.
 */
class DriverPauseTest {
  private static final Duration WAIT = DriverFixture.WAIT;

  private static void await(CountDownLatch l) throws InterruptedException {
    assertTrue(l.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "latch");
  }

  @Test
  void pauseWaitsForTheItemInFlightThenStopsWorkAndStatsUntilResume() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      CountDownLatch telling = new CountDownLatch(1);
      CountDownLatch told = new CountDownLatch(1);
      AtomicBoolean first = new AtomicBoolean(true);
      f.fake.onInflate = pfns -> {
        if (first.getAndSet(false)) {
          telling.countDown();
          try {
            await(told);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      };
      long[] statsAtAnswer = new long[1];
      VcpuGate gate = new VcpuGate(() -> {
        statsAtAnswer[0] = f.fake.stats.size();
        f.client.paused(new byte[8], 0);
        return 0;
      });
      BalloonDriver d = f.create(DriverOptions.defaults().withStatsInterval(Duration.ofMillis(10)));
      d.setVcpuGate(gate);
      gate.start();
      try {
        d.start();
        f.fake.setTarget(300);
        await(telling); // the driver's thread is in a work item: pages taken, the host told
        f.fake.push(ConfigEvent.Kind.PAUSE);
        assertEquals(VcpuGate.State.PAUSING, gate.state());
        assertEquals(0, f.fake.paused.size(), "no answer while the work item is in flight");
        told.countDown();
        assertTrue(f.await(() -> f.fake.paused.size() == 1), "answered once the item ended");
        int inflates = f.fake.buffers(FakeDevice.Rpc.INFLATE).size();
        assertEquals(1, inflates, "the item in flight finished");

        f.fake.setTarget(600); // work queued while paused
        f.client.startHeartbeat(Duration.ofMillis(10), e -> {});
        long beats = f.fake.heartbeats.get();
        assertTrue(f.await(() -> f.fake.heartbeats.get() >= beats + 20), "time passes");
        assertEquals(inflates, f.fake.buffers(FakeDevice.Rpc.INFLATE).size(),
            "no work item ran while paused");
        assertEquals(statsAtAnswer[0], f.fake.stats.size(), "no stats sent while paused");
        assertEquals(256, d.actual(), "actual stays at the first array");

        f.fake.push(ConfigEvent.Kind.RESUME);
        assertTrue(f.awaitSettled(600), "the driver follows the target after RESUME");
        long stats = f.fake.stats.size();
        assertTrue(f.await(() -> f.fake.stats.size() > stats), "stats again");
        assertEquals(1, gate.pausedCount());
      } finally {
        gate.close();
      }
    }
  }

  @Test
  void aShutdownReleasesAPausedGuest() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      VcpuGate gate = new VcpuGate(() -> {
        f.client.paused(new byte[8], 0);
        return 0;
      });
      BalloonDriver d = f.create(DriverOptions.defaults());
      d.setVcpuGate(gate);
      gate.start();
      try {
        d.start();
        f.fake.push(ConfigEvent.Kind.PAUSE);
        assertTrue(gate.awaitState(VcpuGate.State.PAUSED, WAIT));
        f.fake.push(ConfigEvent.Kind.SHUTDOWN); // no RESUME can come after it
        assertEquals(VcpuGate.State.RUNNING, gate.state());
        assertEquals(BalloonDriver.State.QUIESCED, d.state());
      } finally {
        gate.close();
      }
    }
  }

  @Test
  void theGateIsSetBeforeStart() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      BalloonDriver d = f.start(DriverOptions.defaults());
      assertEquals("setVcpuGate: the driver is RUNNING; set the gate before start",
          assertThrows(IllegalStateException.class,
              () -> d.setVcpuGate(VcpuGate.disabled())).getMessage());
      f.fake.push(ConfigEvent.Kind.PAUSE); // no gate: ignored, as before live migration support
      f.fake.setTarget(10);
      assertTrue(f.awaitSettled(10));
    }
  }
}
