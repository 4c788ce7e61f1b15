package io.hintlab.guest.reporting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.MemMap;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.Zone;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.IntPredicate;

/**
 * A fake free page hinting device for {@link HintAllocHoldStrategy}: it hands out command ids
 * through {@link HintCommandTarget#onCommandId} (the config change), answers every call with its
 * current id, records every call, checks each on arrival (batch size, no zone lock held, every
 * block an allocated order-10 driver block under the round's id) and can fail chosen calls or run
 * an action inside a call (a config change arriving mid-round).
 */
final class FakeFreePageVq implements HintSink {
  /** What a call was. */
  enum Kind {
    START,
    HINT,
    STOP
  }

  /** One call: its kind, the id it carried (STOP for a stop) and the hinted pfns. */
  record Call(Kind kind, int cmdId, List<Integer> pfns) {}

  private final PageAllocator allocator;
  private final int maxBatch;
  private HintAllocHoldStrategy driver;
  private final List<Call> calls = new ArrayList<>();
  private IntPredicate failing = i -> false;
  private Consumer<Call> during = c -> {};
  private boolean failWithRuntime;
  private int current = HintAllocHoldStrategy.VIRTIO_BALLOON_CMD_ID_STOP;
  private int roundId = HintAllocHoldStrategy.VIRTIO_BALLOON_CMD_ID_STOP;

  FakeFreePageVq(PageAllocator allocator, int maxBatch) {
    this.allocator = allocator;
    this.maxBatch = maxBatch;
  }

  /** Connects the driver this device notifies. */
  FakeFreePageVq attach(HintAllocHoldStrategy d) {
    this.driver = d;
    d.setHintSink(this);
    return this;
  }

  /** A config change: the device's id becomes {@code id} and the driver is told. */
  void newId(int id) {
    current = id;
    driver.onCommandId(id);
  }

  /** The device moves to {@code id} but the config interrupt has not reached the driver yet. */
  void answerWith(int id) {
    current = id;
  }

  /** Fails the calls whose index (0-based over the device's life) {@code which} accepts. */
  FakeFreePageVq failCalls(boolean withRuntimeException, IntPredicate which) {
    failing = which;
    failWithRuntime = withRuntimeException;
    return this;
  }

  /** Runs {@code action} inside every following call, after the checks. */
  FakeFreePageVq during(Consumer<Call> action) {
    this.during = action;
    return this;
  }

  @Override
  public int start(int cmdId) throws ReportException {
    assertTrue(
        cmdId != HintAllocHoldStrategy.VIRTIO_BALLOON_CMD_ID_STOP
            && cmdId != HintAllocHoldStrategy.VIRTIO_BALLOON_CMD_ID_DONE,
        "start with reserved id " + cmdId);
    roundId = cmdId;
    return call(new Call(Kind.START, cmdId, List.of()));
  }

  @Override
  public int hint(int cmdId, long[] pfns, int[] orders, int n) throws ReportException {
    assertTrue(n >= 1 && n <= maxBatch, "hint of " + n + " blocks with batch size " + maxBatch);
    assertEquals(roundId, cmdId, "hint under another id than the round's start");
    for (Zone z : allocator.zones()) {
      assertFalse(z.lock.isHeldByCurrentThread(), "zone " + z.name() + " lock held in hint()");
    }
    List<Integer> blocks = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int pfn = (int) pfns[i];
      assertEquals(driver.hintBlockOrder(), orders[i], "order of block " + pfn);
      assertEquals(MemMap.K_ALLOC, allocator.memMap().kind(pfn), "block " + pfn + " allocated");
      assertTrue(driver.isHintBlock(pfn), "block " + pfn + " owned by the driver");
      blocks.add(pfn);
    }
    return call(new Call(Kind.HINT, cmdId, List.copyOf(blocks)));
  }

  @Override
  public void stop() throws ReportException {
    call(new Call(Kind.STOP, HintAllocHoldStrategy.VIRTIO_BALLOON_CMD_ID_STOP, List.of()));
  }

  private int call(Call c) throws ReportException {
    int index = calls.size();
    calls.add(c);
    during.accept(c);
    if (failing.test(index)) {
      if (failWithRuntime) {
        throw new IllegalStateException("device bug in call " + index);
      }
      throw new ReportException("device gone in call " + index);
    }
    return current;
  }

  /** Every call, taken or failed, in order. */
  List<Call> calls() {
    return calls;
  }

  /** The kinds of every call, in order. */
  List<Kind> kinds() {
    List<Kind> out = new ArrayList<>();
    calls.forEach(c -> out.add(c.kind()));
    return out;
  }

  /** Every pfn of every hint call, in order. */
  List<Integer> hinted() {
    List<Integer> out = new ArrayList<>();
    calls.forEach(c -> out.addAll(c.pfns()));
    return out;
  }
}
