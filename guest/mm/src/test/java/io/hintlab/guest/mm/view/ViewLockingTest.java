package io.hintlab.guest.mm.view;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.Zone;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The views read a zone under its lock, as walk_zones_in_node() does, without deadlocking. */
class ViewLockingTest {

  @Test
  void shouldWaitForTheZoneLockWhenAnotherThreadHoldsIt() throws Exception {
    PageAllocator a = Guests.boot64m();
    Zone dma = a.zones().get(0);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      for (ProcView v : ProcView.values()) {
        Future<String> text;
        dma.lock.lock();
        try {
          text = pool.submit(() -> v.render(a));
          Thread.sleep(50);
          assertFalse(text.isDone(), v + " printed without the DMA zone lock");
        } finally {
          dma.lock.unlock();
        }
        assertEquals(v.render(a), text.get(10, TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void shouldNotDeadlockWhenPrintingWhileAnotherCpuAllocatesAndFrees() {
    // The allocator takes a pcp lock, then the zone lock (free_pcppages_bulk, rmqueue_bulk);
    // zoneinfo must not take them the other way round.
    PageAllocator a = new PageAllocator(MmConfig.builder().memory(64L << 20).nrCpus(2).build());
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
        Future<?> worker = pool.submit(() -> churn(a, stop));
        try {
          for (int i = 0; i < 200; i++) {
            for (ProcView v : ProcView.values()) {
              v.render(a);
            }
          }
        } finally {
          stop.set(true);
        }
        worker.get(); // rethrows anything the allocating thread threw
      });
    } finally {
      pool.shutdownNow();
    }
  }

  private static void churn(PageAllocator a, AtomicBoolean stop) {
    SplittableRandom rnd = new SplittableRandom(42);
    Deque<long[]> live = new ArrayDeque<>();
    while (!stop.get()) {
      if (live.size() < 2000 && rnd.nextInt(3) != 0) {
        int order = rnd.nextInt(4);
        int pfn = a.allocPages(1, order, rnd.nextBoolean() ? Gfp.GFP_KERNEL
            : Gfp.GFP_HIGHUSER_MOVABLE);
        if (pfn >= 0) {
          live.add(new long[] {pfn, order});
        }
      } else if (!live.isEmpty()) {
        long[] b = live.poll();
        a.freePages(1, (int) b[0], (int) b[1]);
      }
    }
  }
}
