package io.hintlab.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Allocation and free from several threads, one cpu index each, as kernel tasks run on their own
 * cpus: pcp lists under their own locks, buddy lists under the zone lock (pcp lock first, as in
 * rmqueue_bulk() and free_pcppages_bulk()). Blocks are also handed to other threads and freed
 * there (a remote free goes to the freeing cpu's list), and drain_all_pages() runs concurrently.
 * An invariant-checker thread takes every lock now and then while the workers run.
 */
class ConcurrencyTest {
  private static final int CPUS = 4;
  private static final int OPS = 3000;
  private static final long JOIN_TIMEOUT_MS = 30_000;

  private static final int[] GFPS = {
    Gfp.GFP_KERNEL, Gfp.GFP_HIGHUSER_MOVABLE, Gfp.GFP_KERNEL_RECLAIMABLE, Gfp.GFP_ATOMIC,
    Gfp.GFP_NOWAIT, Gfp.GFP_DMA32 | Gfp.GFP_KERNEL, Gfp.GFP_DMA | Gfp.GFP_KERNEL
  };

  /** A live block: pfn and order packed, so that the shared queue holds one object per block. */
  private record Block(int pfn, int order) {}

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {1L, 0xBEEFL, 20251123L})
  void shouldKeepEveryInvariantAndGiveEveryPageBackWhenCpusAllocateAndFreeConcurrently(long seed)
      throws InterruptedException {
    // pcp_spin_lock()/pcp_spin_trylock() per cpu, zone->lock taken inside pcp->lock by
    // rmqueue_bulk() and free_pcppages_bulk(); drain_all_pages() drains other cpus' lists
    PageAllocator a = new PageAllocator(MmConfig.builder().memory(64L << 20).nrCpus(CPUS).build());
    long bootFree = a.freePages();
    ConcurrentLinkedQueue<Block> handoff = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    List<List<Block>> leftovers = new ArrayList<>();
    CountDownLatch start = new CountDownLatch(1);
    AtomicBoolean done = new AtomicBoolean();
    List<Thread> workers = new ArrayList<>();
    for (int cpu = 0; cpu < CPUS; cpu++) {
      List<Block> live = new ArrayList<>();
      leftovers.add(live);
      int c = cpu;
      Thread t = new Thread(() -> {
        try {
          start.await();
          work(a, c, new SplittableRandom(seed * 31 + c), live, handoff);
        } catch (Throwable e) {
          errors.add("cpu " + c + ": " + e);
        }
      }, "mm-worker-cpu" + cpu);
      workers.add(t);
    }
    Thread checker = new Thread(() -> {
      try {
        start.await();
        for (int i = 0; i < 50 && !done.get(); i++) {
          List<String> v = InvariantChecker.violations(a);
          if (!v.isEmpty()) {
            errors.add("checker while running: " + v);
            return;
          }
          Thread.sleep(2);
        }
      } catch (Throwable e) {
        errors.add("checker: " + e);
      }
    }, "mm-invariant-checker");
    workers.forEach(Thread::start);
    checker.start();
    start.countDown();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(JOIN_TIMEOUT_MS);
    for (Thread t : workers) {
      t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      if (t.isAlive()) {
        t.interrupt();
        fail("seed " + seed + ": " + t.getName() + " did not finish within " + JOIN_TIMEOUT_MS
            + " ms (deadlock?)");
      }
    }
    done.set(true);
    checker.join(JOIN_TIMEOUT_MS);
    if (checker.isAlive()) {
      fail("seed " + seed + ": the invariant checker did not finish");
    }
    if (!errors.isEmpty()) {
      fail("seed " + seed + ": " + errors);
    }
    List<String> v = InvariantChecker.violations(a);
    if (!v.isEmpty()) {
      fail("seed " + seed + " after the run: " + v);
    }
    for (int cpu = 0; cpu < CPUS; cpu++) {
      for (Block b : leftovers.get(cpu)) {
        a.freePages(cpu, b.pfn(), b.order());
      }
    }
    for (Block b; (b = handoff.poll()) != null; ) {
      a.freePages(0, b.pfn(), b.order());
    }
    a.drainAllPages(null);
    v = InvariantChecker.violations(a);
    if (!v.isEmpty()) {
      fail("seed " + seed + " after freeing everything: " + v);
    }
    InvariantChecker.check(a);
    assertEquals(bootFree, a.freePages(), "seed " + seed + ": free pages after freeing all");
    for (Zone z : a.zones()) {
      for (int cpu = 0; cpu < CPUS; cpu++) {
        assertEquals(0, z.pcp(cpu).count(), "seed " + seed + ": " + z + " cpu " + cpu);
      }
    }
  }

  /** One worker's bounded run on its own cpu index. */
  private static void work(PageAllocator a, int cpu, SplittableRandom r, List<Block> live,
      ConcurrentLinkedQueue<Block> handoff) {
    for (int op = 0; op < OPS; op++) {
      int dice = r.nextInt(100);
      if (dice < 50 && live.size() < 2000) {
        int gfp = GFPS[r.nextInt(GFPS.length)];
        int order = r.nextInt(8) == 0 ? r.nextInt(11) : r.nextInt(4);
        if (r.nextInt(20) == 0) {
          gfp = Gfp.GFP_TRANSHUGE_LIGHT;
          order = 9;
        }
        int pfn = a.allocPages(cpu, order, gfp);
        if (pfn >= 0) {
          live.add(new Block(pfn, order));
        }
      } else if (dice < 85 && !live.isEmpty()) {
        Block b = live.remove(r.nextInt(live.size()));
        a.freePages(cpu, b.pfn(), b.order());
      } else if (dice < 93 && !live.isEmpty()) {
        handoff.add(live.remove(r.nextInt(live.size()))); // another cpu frees it
      } else if (dice < 98) {
        Block b = handoff.poll();
        if (b != null) {
          a.freePages(cpu, b.pfn(), b.order());
        }
      } else if (dice < 99) {
        a.drainLocalPages(cpu);
      } else {
        a.drainAllPages(null);
      }
    }
  }
}
