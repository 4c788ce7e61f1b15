package io.hintlab.guest.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.reporting.HintSink;
import io.hintlab.guest.reporting.ReportException;
import io.hintlab.guest.reporting.ReportingAgent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FreePageVqTest {
  private static final int ID = 0x80000000;
  private static final int NEXT_ID = 0x80000001;

  private final Device device = new Device();
  private FreePageVq vq;

  @AfterEach
  void tearDown() {
    device.release();
    if (vq != null) {
      vq.close();
    }
  }

  /** A device that records its calls, can hold them until released, and can fail one. */
  private static final class Device implements HintSink {
    final List<String> calls = new ArrayList<>();
    final CountDownLatch gate = new CountDownLatch(1);
    volatile boolean holding;
    volatile int answer = 0;
    volatile String failOn;

    void hold() {
      holding = true;
    }

    void release() {
      gate.countDown();
    }

    private void enter(String call) throws ReportException {
      if (holding) {
        try {
          if (!gate.await(10, TimeUnit.SECONDS)) {
            throw new AssertionError("device held for 10 s");
          }
        } catch (InterruptedException e) {
          throw new ReportException("interrupted");
        }
      }
      synchronized (calls) {
        calls.add(call);
      }
      if (failOn != null && call.startsWith(failOn)) {
        failOn = null;
        throw new ReportException("device gone: " + call);
      }
    }

    @Override
    public int start(int cmdId) throws ReportException {
      enter("start " + Integer.toHexString(cmdId));
      return answer == 0 ? cmdId : answer;
    }

    @Override
    public int hint(int cmdId, long[] pfns, int[] orders, int n) throws ReportException {
      enter("hint " + Integer.toHexString(cmdId) + " " + Arrays.toString(Arrays.copyOf(pfns, n)));
      return answer == 0 ? cmdId : answer;
    }

    @Override
    public void stop() throws ReportException {
      enter("stop");
    }

    List<String> calls() {
      synchronized (calls) {
        return List.copyOf(calls);
      }
    }
  }

  private FreePageVq started(int size) {
    vq = new FreePageVq(device, ReportingAgent.Vcpu.NONE, size);
    vq.start();
    return vq;
  }

  private static long[] pfns(long... p) {
    return p;
  }

  private static int[] orders(int n) {
    int[] o = new int[n];
    Arrays.fill(o, 10);
    return o;
  }

  private void awaitCalls(int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (device.calls().size() < n) {
      assertTrue(System.nanoTime() < deadline, "device saw only " + device.calls());
      Thread.sleep(1);
    }
  }

  @Test
  void shouldReturnBeforeTheDeviceUsesTheBuffersAndDeliverThemInOrder() throws Exception {
    device.hold();
    started(16);

    assertEquals(ID, vq.start(ID));
    assertEquals(ID, vq.hint(ID, pfns(1024, 2048), orders(2), 2));
    vq.stop();
    assertTrue(device.calls().isEmpty(), "nothing used yet: " + device.calls());

    device.release();
    awaitCalls(3);
    assertEquals(List.of("start 80000000", "hint 80000000 [1024, 2048]", "stop"), device.calls());
    assertEquals(4, vq.stats().descriptors());
  }

  @Test
  void shouldHandEachHintCallToTheDeviceAsOneCallNeverJoiningTwo() throws Exception {
    device.hold();
    started(64);
    vq.start(ID);
    vq.hint(ID, pfns(0, 1024), orders(2), 2);
    // the walk hints pfn 0 again after it merged: one device call must not hold both ranges
    vq.hint(ID, pfns(0), new int[] {11}, 1);

    device.release();
    awaitCalls(3);
    assertEquals(List.of("start 80000000", "hint 80000000 [0, 1024]", "hint 80000000 [0]"),
        device.calls());
  }

  @Test
  void shouldKeepOneDescriptorForTheCmdIdAndWaitForRoomWhenFull() throws Exception {
    device.hold();
    started(4);
    vq.start(ID); // 1 of 4
    vq.hint(ID, pfns(0, 1024), orders(2), 2); // 3 of 4: a block needs 2 free
    CountDownLatch added = new CountDownLatch(1);
    Thread producer = Thread.ofPlatform().name("producer").start(() -> {
      try {
        vq.hint(ID, pfns(2048), orders(1), 1);
        added.countDown();
      } catch (ReportException e) {
        throw new AssertionError(e);
      }
    });
    assertTrue(!added.await(100, TimeUnit.MILLISECONDS), "a block took the reserved descriptor");
    vq.stop(); // an outbuf may take the last descriptor
    assertEquals(4, vq.stats().peakDepth());

    device.release();
    assertTrue(added.await(10, TimeUnit.SECONDS), "the producer never got a descriptor");
    producer.join(10_000);
    awaitCalls(4);
    assertEquals("hint 80000000 [2048]", device.calls().get(3));
  }

  @Test
  void shouldAnswerWithTheDevicesIdOnceTheDeviceMovedOnFromTheRound() throws Exception {
    started(16);
    device.answer = NEXT_ID;
    vq.start(ID);
    vq.hint(ID, pfns(0), orders(1), 1);
    awaitCalls(2);
    Thread.sleep(20); // the answer is recorded right after the call returns

    assertEquals(NEXT_ID, vq.hint(ID, pfns(1024), orders(1), 1));
    device.answer = 0;
    assertEquals(0x80000002, vq.hint(0x80000002, pfns(2048), orders(1), 1));
  }

  @Test
  void shouldDropWhatIsQueuedAndThrowOnceWhenADeviceCallFails() throws Exception {
    device.hold();
    started(16);
    device.failOn = "start";
    vq.start(ID);
    vq.hint(ID, pfns(0, 1024), orders(2), 2);
    device.release();
    awaitCalls(1);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (vq.stats().dropped() < 3 && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }

    assertEquals(3, vq.stats().dropped(), "the failed start and the blocks behind it");
    ReportException e = assertThrows(ReportException.class, () -> vq.stop());
    assertEquals("device gone: start 80000000", e.getMessage());
    vq.stop(); // thrown once: the next call is queued
    awaitCalls(2);
    assertEquals(List.of("start 80000000", "stop"), device.calls());
  }

  @Test
  void shouldLeaveGuestModeForEveryKick() throws Exception {
    AtomicInteger exits = new AtomicInteger();
    AtomicInteger enters = new AtomicInteger();
    vq = new FreePageVq(device, new ReportingAgent.Vcpu() {
      @Override
      public void enter() {
        enters.incrementAndGet();
      }

      @Override
      public void exit() {
        exits.incrementAndGet();
      }
    }, 16);
    vq.start();
    vq.start(ID);
    vq.hint(ID, pfns(0), orders(1), 1);
    vq.stop();

    assertEquals(3, exits.get());
    assertEquals(3, enters.get());
  }

  @Test
  void shouldFailAWaitingProducerAndDropTheQueueOnClose() throws Exception {
    device.hold();
    started(2);
    vq.start(ID);
    vq.stop(); // full
    List<Throwable> thrown = new ArrayList<>();
    Thread producer = Thread.ofPlatform().name("producer").start(() -> {
      try {
        vq.hint(ID, pfns(0), orders(1), 1);
      } catch (ReportException e) {
        synchronized (thrown) {
          thrown.add(e);
        }
      }
    });
    Thread.sleep(50);
    Thread closer = Thread.ofPlatform().name("closer").start(vq::close);
    producer.join(10_000);
    device.release();
    closer.join(15_000);

    synchronized (thrown) {
      assertEquals(1, thrown.size(), "the waiting producer fails");
      assertEquals("free page vq is CLOSED: nothing is queued", thrown.get(0).getMessage());
    }
    assertEquals(FreePageVq.State.CLOSED, vq.state());
    assertEquals(1, vq.stats().dropped(), "the STOP behind the start in flight");
    assertThrows(ReportException.class, () -> vq.start(NEXT_ID));
  }

  @Test
  void shouldMeasureHowLongABlockWaitedForTheDevice() throws Exception {
    device.hold();
    started(16);
    vq.start(ID);
    vq.hint(ID, pfns(0), orders(1), 1);
    Thread.sleep(30);
    device.release();
    awaitCalls(2);

    Duration lag = vq.stats().maxLag();
    assertTrue(lag.compareTo(Duration.ofMillis(25)) >= 0, "lag " + lag);
  }

  @Test
  void shouldRejectBadArgumentsWithExactMessages() {
    IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
        () -> new FreePageVq(device, ReportingAgent.Vcpu.NONE, 1));
    assertEquals("free page vq size must be at least 2 (one descriptor is reserved for the cmd"
        + " id), was 1", small.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> new FreePageVq(null, ReportingAgent.Vcpu.NONE, 8));
    FreePageVq notStarted = new FreePageVq(device, ReportingAgent.Vcpu.NONE, 8);
    ReportException early = assertThrows(ReportException.class, () -> notStarted.start(ID));
    assertEquals("free page vq is NEW: nothing is queued", early.getMessage());
    notStarted.start();
    IllegalStateException twice = assertThrows(IllegalStateException.class, notStarted::start);
    assertEquals("free page vq: start() in state RUNNING", twice.getMessage());
    IllegalArgumentException n = assertThrows(IllegalArgumentException.class,
        () -> notStarted.hint(ID, new long[1], new int[1], 2));
    assertEquals("n must be at least 1 and at most pfns.length 1 and orders.length 1, was 2",
        n.getMessage());
    notStarted.close();
  }
}
