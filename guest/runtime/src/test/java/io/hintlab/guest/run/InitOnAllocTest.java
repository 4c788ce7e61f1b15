package io.hintlab.guest.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.hintlab.guest.driver.BalloonDriver;
import io.hintlab.guest.driver.DriverOptions;
import io.hintlab.guest.driver.FreePageVq;
import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.ram.GuestRam;
import io.hintlab.guest.reporting.HintAllocHoldStrategy;
import io.hintlab.guest.reporting.HintSink;
import io.hintlab.guest.reporting.ManualWorkScheduler;
import io.hintlab.guest.reporting.ReportingAgent;
import io.hintlab.guest.reporting.ReportingOptions;
import io.hintlab.guest.transport.AttachSpec;
import io.hintlab.guest.transport.CallDeadlines;
import io.hintlab.guest.transport.DeviceClient;
import io.hintlab.guest.transport.DeviceSession;
import io.hintlab.guest.transport.DriverWishes;
import io.hintlab.guest.transport.GuestAddress;
import io.hintlab.guest.transport.GuestChannel;
import io.hintlab.guest.transport.ReconnectPolicy;
import io.hintlab.guest.workload.WorkloadConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.BitSet;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * init_on_alloc as {@link GuestRun} installs it ({@link GuestRun#initOnAlloc}): over RAM the host
 * filled with old contents and whose dirty log it synced, workload blocks, balloon pages (the
 * driver's inflate) and the order-10 blocks hint-alloc-hold holds are each zeroed and dirty, read
 * as the host reads them, and nothing else is; with --no-init-on-alloc nothing is.
 */
class InitOnAllocTest {
  private static final long MEMORY = 64L << 20;
  private static final int ROUND = 0x80000000;

  @TempDir Path dir;

  private static RunOptions options(boolean initOnAlloc) {
    return new RunOptions(GuestAddress.parse("unix:/nonexistent/host.sock"), "init-test",
        MEMORY, 0, 2, "page-reporting", ReportingOptions.defaults(), "churn",
        WorkloadConfig.DEFAULT, 1, 0, 0, Duration.ZERO, Duration.ZERO, false, Duration.ZERO,
        true, initOnAlloc, false, FreePageVq.QEMU_FREE_PAGE_VQ_SIZE, ReconnectPolicy.exit(),
        CallDeadlines.defaults());
  }

  /** The free page queue: takes every block under the round's id. */
  private static final class Taking implements HintSink {
    final BitSet pages = new BitSet();

    @Override
    public int start(int cmdId) {
      return cmdId;
    }

    @Override
    public int hint(int cmdId, long[] pfns, int[] orders, int n) {
      for (int i = 0; i < n; i++) {
        pages.set((int) pfns[i], (int) pfns[i] + (1 << orders[i]));
      }
      return cmdId;
    }

    @Override
    public void stop() {}
  }

  @ParameterizedTest(name = "init_on_alloc {0}")
  @ValueSource(booleans = {true, false})
  void everyAllocatedBlockIsZeroedAndDirtyOnlyWithInitOnAlloc(boolean init) throws Exception {
    long seed = 20261123L;
    try (FakeHost host = new FakeHost(dir);
        GuestChannel ch = host.channel();
        DeviceClient client = new DeviceClient(ch.channel(), CallDeadlines.defaults())) {
      DeviceSession s = client.attach(new AttachSpec("init-test", MEMORY, 4096, 10,
          DriverWishes.linuxDefaults().withReporting(false)));
      try (GuestRam ram = GuestRam.map(s.ramPath(), s.dirtyLogPath(), MEMORY, 4096,
          GuestRam.Options.DEFAULTS)) {
        long pages = host.pages();
        for (long p = 0; p < pages; p++) {
          host.scribble(p); // what the pages held before this boot
        }
        host.syncDirty();
        PageAllocator pa = new PageAllocator(MmConfig.builder().memory(MEMORY).nrCpus(2).build());
        pa.setPageInitializer(GuestRun.initOnAlloc(options(init), ram));
        BitSet allocated = new BitSet();

        BalloonDriver d = new BalloonDriver(pa, client, DriverOptions.defaults());
        d.start();
        host.setTarget(600);
        assertTrue(host.await(() -> d.actual() == 600), "balloon at 600: " + d.metrics());
        host.ballooned.forEach(p -> allocated.set(p.intValue()));
        assertEquals(600, allocated.cardinality());

        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < 200; i++) {
          int order = r.nextInt(4);
          int pfn = pa.allocPages(r.nextInt(2), order, Gfp.GFP_HIGHUSER_MOVABLE);
          assertTrue(pfn >= 0, "seed " + seed);
          allocated.set(pfn, pfn + (1 << order));
        }

        HintAllocHoldStrategy hinting = new HintAllocHoldStrategy(pa, ReportingOptions.defaults());
        Taking queue = new Taking();
        hinting.setHintSink(queue);
        ManualWorkScheduler clock = new ManualWorkScheduler();
        ReportingAgent agent = new ReportingAgent(hinting,
            (p, o, n) -> fail("hint-alloc-hold reported"), Duration.ZERO, clock);
        agent.start();
        hinting.onCommandId(ROUND);
        clock.advance(Duration.ZERO);
        assertTrue(queue.pages.cardinality() >= 1024, "hint blocks held: " + hinting.heldBlocks());
        allocated.or(queue.pages);

        String at = "seed " + seed + ", init_on_alloc " + init;
        BitSet dirty = new BitSet();
        for (long p = 0; p < pages; p++) {
          if (host.dirty(p)) {
            dirty.set((int) p);
          }
        }
        if (init) {
          assertEquals(allocated, dirty, at + ": exactly the allocated pages are dirty");
          for (int p = allocated.nextSetBit(0); p >= 0; p = allocated.nextSetBit(p + 1)) {
            assertTrue(host.zero(p), at + ": pfn " + p + " zeroed");
          }
          assertEquals(allocated.cardinality(), ram.zeroedPages(), at);
        } else {
          assertTrue(dirty.isEmpty(), at + ": nothing dirtied, " + dirty.cardinality());
          assertEquals(0, ram.zeroedPages(), at);
        }
        for (long p = 0; p < pages; p += 97) {
          boolean kept = !host.zero(p);
          assertEquals(!(init && allocated.get((int) p)), kept, at + ": pfn " + p);
        }
        agent.close();
        d.stop();
        assertFalse(host.ballooned.size() > 0, "deflated at stop");
      }
    }
  }
}
