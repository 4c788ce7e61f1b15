package io.hintlab.guest.reporting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.MemMap;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.Zone;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A fake driver: records every batch it is given, checks what the kernel guarantees about a batch
 * while the host holds it, and can fail chosen calls or run an action with the zone lock dropped.
 *
 * <p>Checked per call: 1 &lt;= n &lt;= capacity; every entry heads a block of its order taken off
 * the free lists (TAKEN, not PageBuddy) of order &gt;= the reporting order; no pfn twice; no zone
 * lock held by the reporting thread.
 */
final class RecordingSink implements ReportSink {
  /** One reported block. */
  record Block(int pfn, int order) {}

  private final PageAllocator allocator;
  private final int capacity;
  private final int minOrder;
  private final List<List<Block>> batches = new ArrayList<>();
  private final List<List<Block>> attempts = new ArrayList<>();
  private int calls;
  private int failFrom = Integer.MAX_VALUE;
  private int failUntil = Integer.MAX_VALUE;
  private boolean failWithRuntime;
  private Runnable during;

  RecordingSink(PageAllocator allocator, int capacity, int minOrder) {
    this.allocator = allocator;
    this.capacity = capacity;
    this.minOrder = minOrder;
  }

  @Override
  public void report(long[] pfns, int[] orders, int n) throws ReportException {
    int call = calls++;
    assertTrue(n >= 1 && n <= capacity, "batch of " + n + " with capacity " + capacity);
    for (Zone z : allocator.zones()) {
      assertFalse(z.lock.isHeldByCurrentThread(), "zone " + z.name() + " lock held in report()");
    }
    MemMap mm = allocator.memMap();
    List<Block> batch = new ArrayList<>(n);
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < n; i++) {
      int pfn = (int) pfns[i];
      int order = orders[i];
      assertTrue(seen.add(pfn), "pfn " + pfn + " twice in one batch");
      assertTrue(order >= minOrder, "order " + order + " below " + minOrder);
      assertEquals(MemMap.K_TAKEN, mm.kind(pfn), "pfn " + pfn + " is not taken off the lists");
      assertEquals(order, mm.order(pfn), "pfn " + pfn);
      batch.add(new Block(pfn, order));
    }
    attempts.add(batch);
    if (during != null) {
      during.run();
    }
    if (call >= failFrom && call < failUntil) {
      if (failWithRuntime) {
        throw new IllegalStateException("sink bug in call " + call);
      }
      throw new ReportException("host refused call " + call);
    }
    batches.add(batch);
  }

  /** Fails calls [from, until) (0-based, counted over the sink's life). */
  RecordingSink failCalls(int from, int until, boolean withRuntimeException) {
    this.failFrom = from;
    this.failUntil = until;
    this.failWithRuntime = withRuntimeException;
    return this;
  }

  /** Stops failing. */
  RecordingSink succeed() {
    return failCalls(Integer.MAX_VALUE, Integer.MAX_VALUE, false);
  }

  /** Runs {@code action} inside every following call, with the zone lock dropped; null: none. */
  RecordingSink during(Runnable action) {
    this.during = action;
    return this;
  }

  /** Calls made, acknowledged or not. */
  int calls() {
    return calls;
  }

  /** The acknowledged batches, in order. */
  List<List<Block>> batches() {
    return batches;
  }

  /** Every batch the sink was given, acknowledged or not, in order. */
  List<List<Block>> attempts() {
    return attempts;
  }

  /** Every block of the acknowledged batches, in order. */
  List<Block> blocks() {
    List<Block> out = new ArrayList<>();
    batches.forEach(out::addAll);
    return out;
  }

  /** Forgets the recorded batches (not the call count). */
  void clear() {
    batches.clear();
  }
}
