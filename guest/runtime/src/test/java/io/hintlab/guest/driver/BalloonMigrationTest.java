package io.hintlab.guest.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.hintlab.guest.mm.ContigAlloc;
import io.hintlab.guest.mm.Errno;
import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.Migration;
import io.hintlab.guest.mm.MigrationTarget;
import io.hintlab.guest.mm.PageIsolation;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Balloon page migration ({@code virtballoon_migratepage()}): compaction or contiguous allocation
 * moves a balloon page, and the host is told "inflate new" then "deflate old", one pfn each;
 * without the host the page stays where it is (-EAGAIN).
 */
class BalloonMigrationTest {
  private static final int PAGEBLOCK = 512;

  @Test
  void shouldTellInflateNewThenDeflateOldWhenABalloonPageMigrates() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      BalloonDriver d = f.start(DriverOptions.defaults());
      f.fake.setTarget(10);
      assertTrue(f.awaitSettled(10));
      int old = d.balloonDevInfo().pfns()[0];
      int before = f.fake.calls.size();

      assertEquals(0, Migration.migrateBlock(f.pa, 0, old, MigrationTarget.allocator(f.pa, 0)));

      List<FakeDevice.Call> told = f.fake.calls.subList(before, f.fake.calls.size());
      assertEquals(2, told.size(), "one inflate and one deflate");
      assertEquals(FakeDevice.Rpc.INFLATE, told.get(0).rpc());
      assertEquals(FakeDevice.Rpc.DEFLATE, told.get(1).rpc());
      long moved = told.get(0).pfns()[0];
      assertArrayEquals(new long[] {old}, told.get(1).pfns());
      assertTrue(d.balloonDevInfo().contains((int) moved));
      assertFalse(d.balloonDevInfo().contains(old));
      assertEquals(BalloonDriverTest.toSet(d.balloonDevInfo().pfns()), f.fake.ballooned());
      assertEquals(1, d.metrics().migrations());
      assertEquals(10, d.metrics().balloonPages(), "a migration keeps the balloon's size");
      InvariantChecker.check(f.pa);
    }
  }

  @Test
  void shouldMoveBalloonPagesOutOfARangeWhenContiguousAllocationNeedsIt() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      BalloonDriver d = f.start(DriverOptions.defaults());
      f.fake.setTarget(600);
      assertTrue(f.awaitSettled(600));
      int block = d.balloonDevInfo().pfns()[0] & -PAGEBLOCK;
      long inRange = countIn(d.balloonDevInfo().pfns(), block);
      ContigAlloc contig = new ContigAlloc(f.pa, new PageIsolation(f.pa));

      assertEquals(0, contig.allocContigRange(0, block, block + PAGEBLOCK, false));

      assertEquals(0, countIn(d.balloonDevInfo().pfns(), block), "no balloon page left there");
      assertEquals(inRange, d.metrics().migrations(), "one migration per page moved");
      assertEquals(BalloonDriverTest.toSet(d.balloonDevInfo().pfns()), f.fake.ballooned(),
          "the host follows every move");
      for (int i = 0; i + 1 < f.fake.calls.size(); i++) {
        FakeDevice.Call c = f.fake.calls.get(i);
        if (c.rpc() == FakeDevice.Rpc.INFLATE && c.pfns().length == 1) {
          assertEquals(FakeDevice.Rpc.DEFLATE, f.fake.calls.get(i + 1).rpc(),
              "inflate new is followed by deflate old");
        }
      }
      contig.freeContigRange(0, block, PAGEBLOCK);
      InvariantChecker.check(f.pa);
    }
  }

  @Test
  void shouldLeaveThePageWhereItIsWhenTheHostCannotBeTold() throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      BalloonDriver d = f.start(DriverOptions.defaults());
      f.fake.setTarget(10);
      assertTrue(f.awaitSettled(10));
      int old = d.balloonDevInfo().pfns()[0];
      f.fake.failNext(FakeDevice.Rpc.INFLATE, Status.Code.UNAVAILABLE);

      assertEquals(-Errno.EAGAIN,
          Migration.migrateBlock(f.pa, 0, old, MigrationTarget.allocator(f.pa, 0)));

      assertTrue(d.balloonDevInfo().contains(old));
      assertEquals(0, d.balloonDevInfo().isolatedPages(), "put back");
      assertEquals(0, d.metrics().migrations());
      assertEquals(1, d.metrics().failures());
      assertEquals(BalloonDriverTest.toSet(d.balloonDevInfo().pfns()), f.fake.ballooned());
      InvariantChecker.check(f.pa);
    }
  }

  @Test
  void shouldRefuseMigrationsWithoutTellingTheHostWhenTheBalloonIsBeingRemoved()
      throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      Balloon b = new Balloon(f.pa, f.client, new DriverCounters(), DriverOptions.NO_INIT);
      b.markRemoving();
      assertEquals(-Errno.EAGAIN, b.migratepage(100, 200), "the device is gone");
      assertEquals(List.of(), f.fake.calls, "nothing told");
    }
  }

  private static long countIn(int[] pfns, int block) {
    long n = 0;
    for (int p : pfns) {
      if (p >= block && p < block + PAGEBLOCK) {
        n++;
      }
    }
    return n;
  }
}
