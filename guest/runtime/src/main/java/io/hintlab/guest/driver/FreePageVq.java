package io.hintlab.guest.driver;

import io.hintlab.guest.reporting.HintSink;
import io.hintlab.guest.reporting.ReportException;
import io.hintlab.guest.reporting.ReportingAgent;
import io.hintlab.guest.transport.DeviceClient;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The free page virtqueue with its asynchrony. The driver adds buffers and kicks without waiting
 * for the device to use them (send_cmd_id_start(), get_free_page_and_send() and
 * send_cmd_id_stop() in drivers/virtio/virtio_balloon.c), and the device pops them later on its
 * own thread (QEMU's get_free_page_hints(), an iothread bottom half), deciding at pop time whether
 * a hint counts. So a hint reaches the device some time after the guest picked its block, and a
 * bitmap sync may fall in between: the race QEMU's guards (STOP before each sync, inbufs used only
 * in S_START) exist for. A synchronous hint path hides it.
 *
 * <p>The ring has {@code size} descriptors: a START or STOP outbuf takes one, each hinted block
 * one inbuf. As in the kernel, a block is added only while more than one descriptor is free
 * ("There is always 1 entry reserved for the cmd id to use"), an outbuf while one is free. Where
 * the kernel frees a block it has no room for and allocates again (which gives it the same block
 * until the device makes room), the producer here waits for a descriptor: the same effect without
 * the spin. The wait leaves guest mode, so a paused guest stops the producer there.
 *
 * <p>The device side is the {@value #THREAD_NAME} thread. It pops descriptors in order and hands
 * them to {@code device} (a {@link DeviceHintSink}): the blocks of one {@link #hint} call as one
 * device call (in pieces of at most {@link DeviceClient#MAX_HINT_RANGES} ranges), each outbuf as
 * its own call. Blocks of different calls are never joined: a walk may hint a block again after it
 * merged with its buddy, and one device call must not hold overlapping ranges. The
 * descriptors are freed when the call returns (the device pushed them as used). Every descriptor
 * goes to the device, also those of a round the device has left: whether a hint counts is the
 * device's decision (QEMU ignores it outside S_START; the migration lab's guard switches make the
 * device apply some).
 *
 * <p>Answers: a call returns at once, so {@link #start} answers with its own id, and {@link
 * #hint} with the device's answer to the latest call of the same round if the device named
 * another id there (it moved on), else with the round's id. A device call that fails drops what
 * is queued (the session is lost or the device gone; no descriptor comes back used) and the next
 * producer call throws that failure, once.
 *
 * <p>State (one atomic field, changed only by {@link #start()} and {@link #close()}):
 *
 * <pre>
 * from \ event   start()    close()
 * NEW            RUNNING    CLOSED
 * RUNNING        error      CLOSED (queued descriptors dropped, thread joined, bounded)
 * CLOSED         error      -
 * </pre>
 *
 * <p><b>Note:</b> the producer methods are called from the reporting thread only ({@link
 * HintSink}); the ring is guarded by this object's monitor.
 */
public final class FreePageVq implements HintSink, AutoCloseable {
  /** QEMU's free_page_vq size: virtio_add_queue(vdev, VIRTQUEUE_MAX_SIZE, ...), 1024. */
  public static final int QEMU_FREE_PAGE_VQ_SIZE = 1024;
  /** The smallest ring virtballoon_probe() accepts: one entry is reserved for the cmd id. */
  public static final int MIN_SIZE = 2;
  /** The device-side thread's name. */
  public static final String THREAD_NAME = "virtio-balloon-free-page-vq";

  private static final Logger LOG = LoggerFactory.getLogger(FreePageVq.class);
  private static final byte START = 0;
  private static final byte HINT = 1;
  private static final byte STOP = 2;
  /** How long a producer waits for a descriptor before it gives up on the device. */
  private static final Duration DESCRIPTOR_WAIT = Duration.ofSeconds(30);
  private static final Duration JOIN = Duration.ofSeconds(10);

  /**
   * What the ring did, for a run's summary.
   *
   * @param descriptors descriptors queued (outbufs and hinted blocks)
   * @param peakDepth the most descriptors queued at once
   * @param dropped descriptors dropped by a failed device call or the close
   * @param maxLag the longest a hinted block waited before the device took it
   */
  public record Stats(long descriptors, long peakDepth, long dropped, Duration maxLag) {
    /** No ring (the strategy does not hint under command ids). */
    public static final Stats NONE = new Stats(0, 0, 0, Duration.ZERO);
  }

  /** The ring's lifecycle; see the class table. */
  public enum State {
    NEW,
    RUNNING,
    CLOSED
  }

  private final HintSink device;
  private final ReportingAgent.Vcpu vcpu;
  private final int size;
  private final AtomicReference<State> state = new AtomicReference<>(State.NEW);
  // The descriptor ring, one slot per descriptor, oldest at head; guarded by this.
  private final byte[] kind;
  private final int[] ids;
  private final long[] pfns;
  private final int[] orders;
  private final long[] queuedAt;
  /** The producer call each descriptor came from. */
  private final int[] call;
  private int calls;
  private int head;
  private int count;
  private ReportException failure;
  private int answeredId;
  private int answer;
  private long peakDepth;
  private long queued;
  private long dropped;
  private long maxLagNanos;
  // The device thread's batch, copied out of the ring.
  private final long[] batchPfns = new long[DeviceClient.MAX_HINT_RANGES];
  private final int[] batchOrders = new int[DeviceClient.MAX_HINT_RANGES];
  private final Thread thread;

  /**
   * A ring of {@code size} descriptors in front of {@code device}.
   *
   * @param device the device calls ({@link DeviceHintSink} without a vCPU: the device thread is
   *     not a vCPU)
   * @param vcpu the producer's vCPU, left while it waits for a descriptor
   * @param size descriptors, at least {@value #MIN_SIZE}
   * @throws IllegalArgumentException if an argument is null or the size too small
   */
  public FreePageVq(HintSink device, ReportingAgent.Vcpu vcpu, int size) {
    if (device == null || vcpu == null) {
      throw new IllegalArgumentException("device and vcpu must not be null");
    }
    if (size < MIN_SIZE) {
      throw new IllegalArgumentException("free page vq size must be at least " + MIN_SIZE
          + " (one descriptor is reserved for the cmd id), was " + size);
    }
    this.device = device;
    this.vcpu = vcpu;
    this.size = size;
    this.kind = new byte[size];
    this.ids = new int[size];
    this.pfns = new long[size];
    this.orders = new int[size];
    this.queuedAt = new long[size];
    this.call = new int[size];
    this.thread = Thread.ofPlatform().name(THREAD_NAME).daemon().unstarted(this::drain);
  }

  /** Starts the device thread. */
  public void start() {
    if (!state.compareAndSet(State.NEW, State.RUNNING)) {
      throw new IllegalStateException("free page vq: start() in state " + state.get());
    }
    thread.start();
  }

  /** The current state. */
  public State state() {
    return state.get();
  }

  @Override
  public int start(int cmdId) throws ReportException {
    add(START, cmdId, null, null, 0);
    return cmdId;
  }

  @Override
  public int hint(int cmdId, long[] blockPfns, int[] blockOrders, int n) throws ReportException {
    if (n < 1 || blockPfns.length < n || blockOrders.length < n) {
      throw new IllegalArgumentException("n must be at least 1 and at most pfns.length "
          + blockPfns.length + " and orders.length " + blockOrders.length + ", was " + n);
    }
    add(HINT, cmdId, blockPfns, blockOrders, n);
    synchronized (this) {
      return answeredId == cmdId ? answer : cmdId;
    }
  }

  @Override
  public void stop() throws ReportException {
    add(STOP, 0, null, null, 0);
  }

  /** The kick: leaves guest mode, queues the descriptors (waiting for room), wakes the device. */
  private void add(byte k, int id, long[] blockPfns, int[] blockOrders, int n)
      throws ReportException {
    vcpu.exit();
    try {
      synchronized (this) {
        throwFailure();
        if (state.get() != State.RUNNING) {
          throw new ReportException("free page vq is " + state.get() + ": nothing is queued");
        }
        calls++;
        if (k != HINT) {
          put(k, id, 0, 0, 1);
        }
        for (int i = 0; i < n; i++) {
          put(k, id, blockPfns[i], blockOrders[i], 2);
        }
        notifyAll();
      }
    } finally {
      vcpu.enter();
    }
  }

  // Locking: called with this held; wait() drops it so the device thread can free descriptors.
  private void put(byte k, int id, long pfn, int order, int needFree) throws ReportException {
    long deadline = System.nanoTime() + DESCRIPTOR_WAIT.toNanos();
    while (size - count < needFree) {
      if (state.get() != State.RUNNING) {
        throw new ReportException("free page vq is " + state.get() + ": nothing is queued");
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new ReportException("free page vq: the device used no descriptor in "
            + DESCRIPTOR_WAIT.toSeconds() + " s (" + count + " of " + size + " queued)");
      }
      notifyAll(); // the device thread may be waiting for work
      try {
        TimeUnit.NANOSECONDS.timedWait(this, left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ReportException("free page vq: interrupted while waiting for a descriptor");
      }
      throwFailure();
    }
    int slot = (head + count) % size;
    kind[slot] = k;
    ids[slot] = id;
    pfns[slot] = pfn;
    orders[slot] = order;
    queuedAt[slot] = System.nanoTime();
    call[slot] = calls;
    count++;
    queued++;
    peakDepth = Math.max(peakDepth, count);
  }

  // Locking: called with this held.
  private void throwFailure() throws ReportException {
    ReportException f = failure;
    if (f != null) {
      failure = null;
      throw f;
    }
  }

  /** The device thread: pop, call the device, free the descriptors; until closed. */
  private void drain() {
    while (true) {
      byte k;
      int id;
      int n;
      synchronized (this) {
        while (count == 0 && state.get() == State.RUNNING) {
          try {
            wait();
          } catch (InterruptedException e) {
            return; // close() gave up waiting for a device call
          }
        }
        if (state.get() != State.RUNNING) {
          return;
        }
        k = kind[head];
        id = ids[head];
        n = k == HINT ? copyBatch() : 1;
      }
      deliver(k, id, n);
    }
  }

  // Locking: called with this held; copies the blocks of the producer call at the head.
  private int copyBatch() {
    int first = call[head];
    int n = 0;
    long now = System.nanoTime();
    while (n < count && n < batchPfns.length) {
      int slot = (head + n) % size;
      if (call[slot] != first) {
        break;
      }
      batchPfns[n] = pfns[slot];
      batchOrders[n] = orders[slot];
      maxLagNanos = Math.max(maxLagNanos, now - queuedAt[slot]);
      n++;
    }
    return n;
  }

  /** One device call outside the lock, then the descriptors are used (or all dropped). */
  private void deliver(byte k, int id, int n) {
    int got = id;
    ReportException failed = null;
    try {
      got = switch (k) {
        case START -> device.start(id);
        case HINT -> device.hint(id, batchPfns, batchOrders, n);
        default -> {
          device.stop();
          yield id;
        }
      };
    } catch (ReportException e) {
      failed = e;
    } catch (RuntimeException e) {
      failed = new ReportException("free page vq: the device call failed: " + e, e);
    }
    synchronized (this) {
      if (failed != null) {
        LOG.warn("free page vq: device call failed, {} queued descriptors dropped: {}", count,
            failed.getMessage());
        dropped += count;
        head = 0;
        count = 0;
        failure = failed;
      } else {
        head = (head + n) % size;
        count -= n;
        if (k != STOP) {
          answeredId = id;
          answer = got;
        }
      }
      notifyAll();
    }
  }

  /** What the ring did so far, in one snapshot. */
  public synchronized Stats stats() {
    return new Stats(queued, peakDepth, dropped, Duration.ofNanos(maxLagNanos));
  }

  /**
   * Stops the device thread: what is still queued is dropped (the device is going away), a
   * device call in progress ends within its deadline (then the thread is interrupted), and a
   * waiting producer fails. Idempotent.
   */
  @Override
  public void close() {
    State was = state.getAndSet(State.CLOSED);
    if (was == State.CLOSED) {
      return;
    }
    synchronized (this) {
      notifyAll();
    }
    if (was == State.RUNNING) {
      join();
    }
    synchronized (this) {
      dropped += count;
      count = 0;
    }
  }

  private void join() {
    try {
      thread.join(JOIN);
      if (thread.isAlive()) {
        LOG.warn("free page vq: device thread still in a call after {} s; interrupting it",
            JOIN.toSeconds());
        thread.interrupt();
        thread.join(JOIN);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "free page vq (" + size + " descriptors, " + state.get() + ")";
  }
}
