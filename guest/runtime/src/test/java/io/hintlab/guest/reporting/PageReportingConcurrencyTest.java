package io.hintlab.guest.reporting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.MemMap;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.Zone;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * {@code page-reporting} on its real thread while allocating threads (one modelled cpu each)
 * allocate and free, and the test thread runs the invariant checker mid-run: the zone lock is held
 * only while isolating and draining, dropped around the report, and nothing is lost.
 */
class PageReportingConcurrencyTest {
  private static final int CPUS = 3;
  private static final int OPS = 30_000;

  @Test
  void shouldStayConsistentWithAllocatingThreadsAndAReportingThread() throws Exception {
    PageAllocator a = new PageAllocator(MmConfig.builder().memory(128L << 20).nrCpus(CPUS).build());
    long bootFree = a.freePages();
    MemMap mm = a.memMap();
    ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
    AtomicLong reported = new AtomicLong();
    ReportSink host =
        (pfns, orders, n) -> {
          for (Zone z : a.zones()) {
            if (z.lock.isHeldByCurrentThread()) {
              problems.add("zone lock held in report()");
            }
          }
          for (int i = 0; i < n; i++) {
            if (mm.kind((int) pfns[i]) != MemMap.K_TAKEN || orders[i] < 5) {
              problems.add("bad entry " + pfns[i] + "/" + orders[i]);
            }
          }
          reported.addAndGet(n);
          LockSupport.parkNanos(20_000); // the host's round trip
        };
    ReportingOptions o =
        ReportingOptions.defaults().withOrder(5).withCapacity(8).withDelay(Duration.ofMillis(1));
    ReportingAgent agent =
        new ReportingAgent(
            new PageReportingStrategy(a, o),
            host,
            o.delay(),
            new ExecutorWorkScheduler("page-reporting", Duration.ofSeconds(2)));
    agent.start();

    CountDownLatch done = new CountDownLatch(CPUS);
    List<Thread> threads = new ArrayList<>();
    for (int cpu = 0; cpu < CPUS; cpu++) {
      int c = cpu;
      Thread t =
          new Thread(
              () -> {
                try {
                  churn(a, c, new SplittableRandom(c));
                } catch (RuntimeException | Error e) {
                  problems.add("cpu " + c + ": " + e);
                } finally {
                  done.countDown();
                }
              },
              "cpu-" + cpu);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    // the checker takes every lock: it sees batches in flight as TAKEN blocks
    while (!done.await(5, TimeUnit.MILLISECONDS)) {
      List<String> v = InvariantChecker.violations(a);
      if (!v.isEmpty()) {
        problems.add("mid-run: " + v);
        break;
      }
    }
    assertTrue(done.await(20, TimeUnit.SECONDS), "workers finished");
    agent.close();
    for (Thread t : threads) {
      t.join(1000);
    }
    assertEquals(List.of(), List.copyOf(problems));
    assertEquals(Optional.empty(), agent.lastFailure());
    assertTrue(agent.metrics().passes() > 1, "passes: " + agent.metrics().passes());
    assertTrue(reported.get() > 0);
    for (Zone z : a.zones()) {
      a.drainAllPages(z);
    }
    InvariantChecker.check(a);
    assertEquals(bootFree, a.freePages(), "every page back");
  }

  /** Random allocations and frees on one cpu; everything is freed at the end. */
  private static void churn(PageAllocator a, int cpu, SplittableRandom r) {
    int[] gfps = {Gfp.GFP_HIGHUSER_MOVABLE, Gfp.GFP_KERNEL, Gfp.GFP_KERNEL_RECLAIMABLE};
    List<int[]> held = new ArrayList<>();
    for (int i = 0; i < OPS; i++) {
      if (r.nextInt(100) < 52 && held.size() < 400) {
        int order = r.nextInt(10) < 7 ? r.nextInt(4) : 4 + r.nextInt(7);
        int pfn = a.allocPages(cpu, order, gfps[r.nextInt(gfps.length)]);
        if (pfn >= 0) {
          held.add(new int[] {pfn, order});
        }
      } else if (!held.isEmpty()) {
        int j = r.nextInt(held.size());
        int[] b = held.get(j);
        held.set(j, held.get(held.size() - 1));
        held.remove(held.size() - 1);
        a.freePages(cpu, b[0], b[1]);
      }
    }
    for (int[] b : held) {
      a.freePages(cpu, b[0], b[1]);
    }
    a.drainLocalPages(cpu);
  }
}
