package io.hintlab.guest.reporting;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.Zone;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A fake driver for the strategies that do not follow page-reporting's batch shape: records every
 * call, checks the batch size and that no zone lock is held, runs a strategy-specific check on the
 * batch before anything else happens, can fail chosen calls and can run a workload inside every
 * call (the zone lock is dropped there).
 */
final class CheckingSink implements ReportSink {
  /** One hinted block. */
  record Block(int pfn, int order) {}

  private final PageAllocator allocator;
  private final int capacity;
  private final List<List<Block>> attempts = new ArrayList<>();
  private final List<List<Block>> batches = new ArrayList<>();
  private Consumer<List<Block>> check = b -> {};
  private Consumer<List<Block>> during = b -> {};
  private int failFrom = Integer.MAX_VALUE;
  private int failUntil = Integer.MAX_VALUE;
  private boolean failWithRuntime;

  CheckingSink(PageAllocator allocator, int capacity) {
    this.allocator = allocator;
    this.capacity = capacity;
  }

  @Override
  public void report(long[] pfns, int[] orders, int n) throws ReportException {
    int call = attempts.size();
    assertTrue(n >= 1 && n <= capacity, "batch of " + n + " with capacity " + capacity);
    for (Zone z : allocator.zones()) {
      assertFalse(z.lock.isHeldByCurrentThread(), "zone " + z.name() + " lock held in report()");
    }
    List<Block> batch = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      batch.add(new Block((int) pfns[i], orders[i]));
    }
    attempts.add(batch);
    check.accept(batch);
    during.accept(batch);
    if (call >= failFrom && call < failUntil) {
      if (failWithRuntime) {
        throw new IllegalStateException("sink bug in call " + call);
      }
      throw new ReportException("host refused call " + call);
    }
    batches.add(batch);
  }

  /** Checks every following batch on arrival. */
  CheckingSink check(Consumer<List<Block>> c) {
    this.check = c;
    return this;
  }

  /** Runs {@code action} inside every following call, after the check. */
  CheckingSink during(Consumer<List<Block>> action) {
    this.during = action == null ? b -> {} : action;
    return this;
  }

  /** Fails calls [from, until) (0-based over the sink's life). */
  CheckingSink failCalls(int from, int until, boolean withRuntimeException) {
    this.failFrom = from;
    this.failUntil = until;
    this.failWithRuntime = withRuntimeException;
    return this;
  }

  /** Every call, acknowledged or not. */
  List<List<Block>> attempts() {
    return attempts;
  }

  /** The acknowledged batches. */
  List<List<Block>> batches() {
    return batches;
  }

  /** Every block of every call, in order. */
  List<Block> offered() {
    List<Block> out = new ArrayList<>();
    attempts.forEach(out::addAll);
    return out;
  }
}
