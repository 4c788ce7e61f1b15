package io.hintlab.guest.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.transport.CallDeadlines;
import io.hintlab.guest.transport.DriverWishes;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The host failing under the driver: a failed inflate keeps its pages in the balloon and tells
 * them again; a host gone for good costs nothing at removal (every page back in the buddy, the
 * failures counted); a hung host cannot hold the removal longer than one call's deadline.
 */
class HostFailureTest {

  @Test
  void shouldTellAFailedInflateAgainBeforeTheNextFill() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      f.fake.failNext(FakeDevice.Rpc.INFLATE, Status.Code.UNAVAILABLE);
      BalloonDriver d = f.start(DriverOptions.defaults());
      f.fake.setTarget(600);
      assertTrue(f.awaitSettled(600), "settled: " + d.metrics());
      List<long[]> inflates = f.fake.buffers(FakeDevice.Rpc.INFLATE);
      assertEquals(List.of(256, 256, 88), inflates.stream().map(b -> b.length).toList(),
          "the untold array first, then the rest");
      assertEquals(BalloonDriverTest.toSet(d.balloonDevInfo().pfns()), f.fake.ballooned());
      assertEquals(600, d.metrics().inflatedPages(), "the failed array was not allocated twice");
      assertEquals(1, d.metrics().failures());
    }
  }

  @Test
  void shouldGiveEveryPageBackWhenTheHostDiesMidInflate() throws Exception {
    long seed = 7L;
    int failAt = 1 + new Random(seed).nextInt(4); // the host dies at this inflate call
    try (DriverFixture f = DriverFixture.standard()) {
      long free = f.freePages();
      f.fake.onInflate = pfns -> {
        if (f.fake.buffers(FakeDevice.Rpc.INFLATE).size() + 1 == failAt) {
          f.fake.failAlways(FakeDevice.Rpc.INFLATE, Status.Code.UNAVAILABLE);
          f.fake.failAlways(FakeDevice.Rpc.DEFLATE, Status.Code.UNAVAILABLE);
        }
      };
      BalloonDriver d = f.start(DriverOptions.defaults());
      f.fake.setTarget(2000);
      assertTrue(f.await(() -> d.metrics().failures() >= 2), "seed " + seed + ": " + d.metrics());
      long ballooned = d.metrics().balloonPages();
      assertTrue(ballooned > 0, "seed " + seed + ": pages were taken before the host died");

      d.stop();

      DriverMetrics m = d.metrics();
      assertEquals(BalloonDriver.State.REMOVED, d.state());
      assertEquals(0, m.balloonPages(), "seed " + seed);
      assertEquals(m.inflatedPages(), m.deflatedPages(), "seed " + seed + ": nothing lost");
      assertEquals(free, f.freePages(), "seed " + seed + ": every page is back in the buddy");
      assertTrue(m.failures() >= 3, "seed " + seed + ": the removal's deflate failed too");
      InvariantChecker.check(f.pa);
    }
  }

  @Test
  void shouldStopBoundedAndIdempotentlyWhenTheHostHangs() throws Exception {
    try (DriverFixture f = new DriverFixture(64L << 20, FakeDevice.ALL_FEATURES,
        DriverWishes.linuxDefaults(), CallDeadlines.uniform(Duration.ofMillis(300)))) {
      long free = f.freePages();
      BalloonDriver d = f.start(DriverOptions.defaults());
      f.fake.setTarget(1000);
      assertTrue(f.awaitSettled(1000));
      f.fake.failAlways(FakeDevice.Rpc.DEFLATE, Status.Code.OK); // never answers

      Thread stopper = Thread.ofPlatform().name("stopper").start(d::stop);
      Thread second = Thread.ofPlatform().name("second-stopper").start(d::stop);
      stopper.join(DriverFixture.WAIT);
      second.join(DriverFixture.WAIT);

      assertFalse(stopper.isAlive(), "stop is bounded");
      assertFalse(second.isAlive(), "a second stop waits for the first, bounded");
      assertEquals(BalloonDriver.State.REMOVED, d.state());
      assertEquals(0, d.metrics().balloonPages());
      assertEquals(free, f.freePages());
      assertEquals(1, d.metrics().failures(), "one deadline, then no more telling");
      assertArrayEquals(new int[0], d.balloonDevInfo().pfns());
      InvariantChecker.check(f.pa);
    }
  }
}
