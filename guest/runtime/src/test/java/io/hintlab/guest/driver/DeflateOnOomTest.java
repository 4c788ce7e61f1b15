package io.hintlab.guest.driver;

import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
import static io.hintlab.guest.transport.VirtioBalloon.bit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.transport.CallDeadlines;
import io.hintlab.guest.transport.DriverWishes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * VIRTIO_BALLOON_F_DEFLATE_ON_OOM: the driver's OOM notifier ({@code
 * virtio_balloon_oom_notify()}) deflates {@value Balloon#VIRTIO_BALLOON_OOM_NR_PAGES} pages per
 * call, telling the host, so an allocation that would fail succeeds; without the feature no
 * notifier is registered and the allocation fails.
 */
class DeflateOnOomTest {

  @Test
  void shouldDeflate256PagesAndLetAGfpKernelAllocationSucceedWhenMemoryRunsOut()
      throws Exception {
    try (DriverFixture f = DriverFixture.standard()) {
      PageAllocator pa = f.pa;
      long free = f.freePages();
      BalloonDriver d = f.start(DriverOptions.defaults());
      f.fake.setTarget(2000);
      assertTrue(f.awaitSettled(2000), "inflated: " + d.metrics());
      List<Integer> hog = exhaust(pa);

      int pfn = pa.allocPages(0, 0, Gfp.GFP_KERNEL);

      assertTrue(pfn >= 0, "the OOM notifier made room: " + d.metrics());
      long oom = d.metrics().oomDeflatedPages();
      assertTrue(oom >= Balloon.VIRTIO_BALLOON_OOM_NR_PAGES, "deflated " + oom);
      assertEquals(pa.oomNotifyCalls() * Balloon.VIRTIO_BALLOON_OOM_NR_PAGES, oom,
          "each notification deflates exactly VIRTIO_BALLOON_OOM_NR_PAGES");
      assertEquals(oom, pa.oomFreedPages());
      long told = f.fake.buffers(FakeDevice.Rpc.DEFLATE).stream()
          .filter(b -> b.length == Balloon.VIRTIO_BALLOON_OOM_NR_PAGES).count();
      assertEquals(pa.oomNotifyCalls(), told, "the host was told of each deflate");

      hog.add(pfn);
      for (int p : hog) {
        pa.freePages(0, p, 0);
      }
      d.stop();
      assertEquals(free, f.freePages(), "nothing lost");
      InvariantChecker.check(pa);
    }
  }

  @Test
  void shouldNotRegisterTheNotifierWhenDeflateOnOomWasNotNegotiated() throws Exception {
    long offered = FakeDevice.ALL_FEATURES & ~bit(VIRTIO_BALLOON_F_DEFLATE_ON_OOM);
    try (DriverFixture f = new DriverFixture(64L << 20, offered, DriverWishes.linuxDefaults(),
        CallDeadlines.uniform(Duration.ofSeconds(2)))) {
      PageAllocator pa = f.pa;
      BalloonDriver d = f.start(DriverOptions.defaults());
      f.fake.setTarget(2000);
      assertTrue(f.awaitSettled(2000));
      List<Integer> hog = exhaust(pa);

      assertEquals(-1, pa.allocPages(0, 0, Gfp.GFP_KERNEL), "no notifier: the allocation fails");

      assertEquals(0, pa.oomNotifyCalls());
      assertEquals(0, d.metrics().oomDeflatedPages());
      assertEquals(2000, d.metrics().balloonPages());
      for (int p : hog) {
        pa.freePages(0, p, 0);
      }
    }
  }

  @Test
  void shouldNotDeflateOnOomWhenTheGuestDidNotAskForIt() throws Exception {
    DriverWishes wishes = DriverWishes.linuxDefaults().withDeflateOnOom(false);
    try (DriverFixture f = new DriverFixture(64L << 20, FakeDevice.ALL_FEATURES, wishes,
        CallDeadlines.uniform(Duration.ofSeconds(2)))) {
      f.start(DriverOptions.defaults());
      f.fake.setTarget(100);
      assertTrue(f.awaitSettled(100));
      List<Integer> hog = exhaust(f.pa);
      assertEquals(-1, f.pa.allocPages(0, 0, Gfp.GFP_KERNEL));
      assertEquals(0, f.pa.oomNotifyCalls());
      for (int p : hog) {
        f.pa.freePages(0, p, 0);
      }
    }
  }

  /** Takes every page a GFP_KERNEL allocation may have without the OOM path (__GFP_NORETRY). */
  private static List<Integer> exhaust(PageAllocator pa) {
    List<Integer> hog = new ArrayList<>();
    for (int pfn; (pfn = pa.allocPages(0, 0, Gfp.GFP_KERNEL | Gfp.__GFP_NORETRY)) >= 0; ) {
      hog.add(pfn);
    }
    return hog;
  }
}
