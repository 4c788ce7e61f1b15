package io.hintlab.host.migration;

import io.hintlab.host.device.BalloonDevice;
import io.hintlab.host.device.BalloonException;
import io.hintlab.host.device.ConfigSpace;
import io.hintlab.host.device.DeviceEvents;
import io.hintlab.host.device.VirtioBalloon;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * An in-JVM stand-in for a hintlab guest, for migration tests. Like the real guest it writes
 * stamped pages through its own shared mapping of the RAM file and then sets their dirty bits
 * (atomic OR); runs a hinting driver shaped like Linux's report_free_page_func() that reacts to
 * the device's command ids (allocate free blocks, hint them, hold them; STOP keeps them, DONE
 * releases them); puts its free-page virtqueue elements on an in-order queue that the device
 * works through with a random lag (so elements are in flight when the host stops a round, as in a
 * busy QEMU iothread); and answers PAUSE with its owned pages once its vCPU is quiesced.
 *
 * <p>The vCPU rewrites pages of a hot set of owned blocks (a working set that keeps every round
 * busy) and churns the rest: it frees blocks and allocates blocks, the most recently freed first
 * (the head of a free list), or when none is free by taking back the most recently hinted block
 * as the balloon shrinker does ("we're allowed to reuse any free pages, even if they are still to
 * be processed by the host"), writing it at once: the Firecracker-style race.
 *
 * <p>Driver modes ({@link Driver}): Linux's hint-and-hold, and the free-list-walk strategy that
 * hints free blocks from the head of the free list without taking them, over and over while the
 * id is current (so the vCPU's next allocations are the blocks whose hints are in flight).
 *
 * <p>Memory is handled in aligned blocks of {@link #BLOCK_PAGES} pages (order
 * {@link #BLOCK_ORDER}); every page of an owned block holds a stamp (pfn, write generation, seed).
 */
final class StandInGuest implements DeviceEvents, AutoCloseable {
  static final int BLOCK_ORDER = 2;
  static final int BLOCK_PAGES = 1 << BLOCK_ORDER;
  private static final int FREE = 0;
  private static final int OWNED = 1;
  private static final int HELD = 2;
  private static final int HINT_BATCH_BLOCKS = 8;
  /**
   * Blocks per element of the walking driver: many blocks in flight in one element, so the device
   * is busy with one whenever the host syncs (QEMU holds free_page_lock for a whole element).
   */
  private static final int WALK_BATCH_BLOCKS = 64;
  /** Elements the free page virtqueue holds (QEMU's is 1024 descriptors; a small ring here). */
  private static final int VQ_CAPACITY = 64;
  private static final long JOIN_MS = 2_000;

  /**
   * How the stand-in behaves.
   *
   * @param seed seeds every random choice (thread timing is still the scheduler's)
   * @param ownedFraction blocks owned (written) at the start
   * @param zeroFraction of the owned blocks, those holding all-zero content
   * @param history write every free block once before the start (free pages then hold stale
   *     data, as in a guest that ran for a while); otherwise free blocks are holes
   * @param vcpu what the vCPU does, or {@link Vcpu#IDLE}
   * @param driver how the hinting driver picks blocks
   * @param vqLagMaxMicros the device takes each virtqueue element, in order, between half and
   *     all of this long after the driver queued it (0: at once)
   * @param answersPause whether PAUSE is answered at all
   */
  record Behaviour(
      long seed,
      double ownedFraction,
      double zeroFraction,
      boolean history,
      Vcpu vcpu,
      Driver driver,
      int vqLagMaxMicros,
      boolean answersPause) {

    /** An idle guest: no vCPU work, Linux-like hinting, a prompt device. */
    static Behaviour idle(long seed, double ownedFraction) {
      return new Behaviour(seed, ownedFraction, 0, true, Vcpu.IDLE, Driver.HOLD, 100, true);
    }

    /**
     * A guest that keeps writing pages whose hints are in flight: free-list-walk hinting, a
     * device that takes elements 1 to 2 ms late, a hot set of 32 blocks (16 writes a step, so
     * no round ends empty) and one block of churn a step.
     */
    static Behaviour racy(long seed) {
      return new Behaviour(seed, 0.5, 0, true, new Vcpu(20, 32, 16, 1), Driver.WALK, 2_000,
          true);
    }

    Behaviour withZeroFraction(double zero, boolean writeHistory) {
      return new Behaviour(seed, ownedFraction, zero, writeHistory, vcpu, driver, vqLagMaxMicros,
          answersPause);
    }

    Behaviour withAnswersPause(boolean answers) {
      return new Behaviour(seed, ownedFraction, zeroFraction, history, vcpu, driver,
          vqLagMaxMicros, answers);
    }
  }

  /** How the hinting driver picks blocks. */
  enum Driver {
    /** Linux report_free_page_func(): take free blocks, hint and hold them; STOP when none is. */
    HOLD,
    /** free-list-walk: hint the free list's head blocks without taking them, again and again. */
    WALK
  }

  /**
   * The vCPU's work: every {@code intervalMicros}, {@code hotWrites} writes to random pages of
   * the first {@code hotBlocks} owned blocks (never freed), then {@code churnBlocks} times one
   * block freed or allocated (even odds).
   */
  record Vcpu(int intervalMicros, int hotBlocks, int hotWrites, int churnBlocks) {
    static final Vcpu IDLE = new Vcpu(0, 0, 0, 0);
  }

  private enum Kind { START, RANGES, STOP }

  private record VqElement(Kind kind, int cmdId, long[] pfns, int[] orders, long dueNanos) {}

  private record Event(String kind, ConfigSpace config) {}

  private final BalloonDevice device;
  private final Behaviour behaviour;
  private final int blocks;
  private final Arena arena = Arena.ofShared();
  private final MemorySegment ram;
  private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
  private final BlockingQueue<VqElement> vq = new LinkedBlockingQueue<>();
  private final List<Thread> threads = new ArrayList<>();
  private final AtomicLong resumes = new AtomicLong();
  private final AtomicLong racedWrites = new AtomicLong();
  private long zeroBlocksAtStart;
  private long holeBlocksAtStart;
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private volatile boolean running = true;
  private volatile int latestCmdId = VirtioBalloon.VIRTIO_BALLOON_CMD_ID_STOP;
  private volatile boolean doneRequested;

  // The zone lock: guards the block state and the generation counters.
  private final byte[] state;
  private final long[] hintDueNanos; // when the device takes the block's latest hint
  private final long[] generation;
  private final BlockSet free;
  private final BlockSet owned;
  private final BlockSet held;

  // Guards pausing and vcpuParked.
  private final Object pauseLock = new Object();
  private boolean pausing;
  private boolean vcpuParked;

  StandInGuest(BalloonDevice device, Behaviour behaviour) throws IOException {
    this.device = device;
    this.behaviour = behaviour;
    int pages = (int) device.memory().pages();
    this.blocks = pages / BLOCK_PAGES;
    this.state = new byte[blocks];
    this.hintDueNanos = new long[blocks];
    this.generation = new long[pages];
    this.free = new BlockSet(blocks);
    this.owned = new BlockSet(blocks);
    this.held = new BlockSet(blocks);
    try (FileChannel ch = FileChannel.open(device.memory().ramPath(), StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      this.ram = ch.map(FileChannel.MapMode.READ_WRITE, 0, (long) pages * 4096, arena);
    }
    populate(new SplittableRandom(behaviour.seed()));
    device.setEvents(this);
    SplittableRandom root = new SplittableRandom(behaviour.seed() ^ 0x5DEECE66DL);
    this.lagRandom = root.split();
    spawn("standin-events", this::eventLoop);
    spawn("standin-driver", this::driverLoop);
    spawn("standin-vq", this::vqLoop);
    if (behaviour.vcpu().intervalMicros() > 0) {
      SplittableRandom r = root.split();
      spawn("standin-vcpu", () -> vcpuLoop(r));
    }
  }

  // ---- initial memory ----------------------------------------------------------------------

  private void populate(SplittableRandom rnd) {
    for (int b = 0; b < blocks; b++) {
      if (b < behaviour.vcpu().hotBlocks()) {
        state[b] = OWNED; // the hot set: owned, never freed, not in the churn sets
        writeBlock(b);
      } else if (rnd.nextDouble() < behaviour.ownedFraction()) {
        state[b] = OWNED;
        owned.add(b);
        if (rnd.nextDouble() < behaviour.zeroFraction()) {
          zeroBlock(b);
          zeroBlocksAtStart++;
        } else {
          writeBlock(b);
        }
      } else {
        state[b] = FREE;
        free.add(b);
        if (behaviour.history()) {
          writeBlock(b); // stale data of an earlier owner
        } else {
          holeBlocksAtStart++;
        }
      }
    }
    device.memory().syncAllDirty(null); // history predates the migration
  }

  // ---- page writes, as guest/ram does them: content first, then the dirty bit -------------------

  private void writeBlock(int b) {
    for (int i = 0; i < BLOCK_PAGES; i++) {
      writePage(b * BLOCK_PAGES + i);
    }
  }

  private void writePage(int pfn) {
    long gen = ++generation[pfn];
    long off = (long) pfn * 4096;
    ram.set(ValueLayout.JAVA_LONG_UNALIGNED, off, pfn);
    ram.set(ValueLayout.JAVA_LONG_UNALIGNED, off + 8, gen);
    ram.set(ValueLayout.JAVA_LONG_UNALIGNED, off + 16, behaviour.seed());
    ram.set(ValueLayout.JAVA_LONG_UNALIGNED, off + 4088, gen ^ pfn);
    device.memory().dirtyLog().markDirty(pfn);
  }

  private void zeroBlock(int b) {
    ram.asSlice((long) b * BLOCK_PAGES * 4096, (long) BLOCK_PAGES * 4096).fill((byte) 0);
    for (int i = 0; i < BLOCK_PAGES; i++) {
      device.memory().dirtyLog().markDirty(b * BLOCK_PAGES + i);
    }
  }

  // ---- the vCPU --------------------------------------------------------------------------------

  private void vcpuLoop(SplittableRandom rnd) {
    Vcpu v = behaviour.vcpu();
    long interval = v.intervalMicros() * 1_000L;
    while (running) {
      if (!safePoint()) {
        return;
      }
      synchronized (this) {
        for (int i = 0; i < v.hotWrites(); i++) {
          writePage(rnd.nextInt(v.hotBlocks() * BLOCK_PAGES));
        }
        for (int i = 0; i < v.churnBlocks(); i++) {
          churn(rnd);
        }
      }
      LockSupport.parkNanos(interval);
    }
  }

  // Frees a random churn block or allocates one, even odds.
  private void churn(SplittableRandom rnd) {
    if (rnd.nextBoolean() && owned.size() > 0) {
      int b = owned.random(rnd);
      owned.remove(b);
      state[b] = FREE;
      free.add(b);
    } else {
      allocate();
    }
  }

  // A free block if there is one, else the most recently hinted block (the shrinker gives it
  // back before the host may have used the hint), written at once.
  private void allocate() {
    int b;
    if (free.size() > 0) {
      b = free.last(); // the head of the free list: the most recently freed block
      free.remove(b);
    } else if (held.size() > 0) {
      b = held.last();
      held.remove(b);
    } else {
      return;
    }
    state[b] = OWNED;
    owned.add(b);
    if (hintDueNanos[b] - System.nanoTime() > 0) {
      racedWrites.incrementAndGet(); // its hint has not reached the device yet
    }
    writeBlock(b);
  }

  // ---- the hinting driver (report_free_page_func) -----------------------------------------------

  private void driverLoop() {
    int active = VirtioBalloon.VIRTIO_BALLOON_CMD_ID_STOP;
    while (running) {
      if (doneRequested) {
        doneRequested = false;
        releaseHeld();
      }
      int id = latestCmdId;
      if (Integer.compareUnsigned(id, VirtioBalloon.VIRTIO_BALLOON_FREE_PAGE_HINT_CMD_ID_MIN) >= 0
          && id != active) {
        active = id;
        hintRound(id);
        continue;
      }
      LockSupport.parkNanos(20_000);
    }
  }

  // HOLD: allocates every free block while the id stays current, hinting them in batches, then
  // STOP. WALK hints the free list's head without taking anything until the id changes.
  private void hintRound(int id) {
    enqueue(Kind.START, id, null, null);
    List<Integer> batch = new ArrayList<>();
    while (running && latestCmdId == id && !pausing()) {
      if (behaviour.driver() == Driver.WALK) {
        walk(id);
        continue;
      }
      int b = takeFreeBlock();
      if (b < 0) {
        break; // the allocation failed: Linux sends STOP
      }
      batch.add(b);
      if (batch.size() == HINT_BATCH_BLOCKS) {
        sendRanges(id, batch, true);
      }
    }
    sendRanges(id, batch, true);
    enqueue(Kind.STOP, id, null, null);
  }

  // One step of free-list-walk: hints the head blocks of the free list, leaving them free.
  private void walk(int id) {
    List<Integer> batch = new ArrayList<>();
    synchronized (this) {
      for (int i = free.size() - 1; i >= 0 && batch.size() < WALK_BATCH_BLOCKS; i--) {
        batch.add(free.at(i));
      }
    }
    if (batch.isEmpty()) {
      LockSupport.parkNanos(20_000);
      return;
    }
    sendRanges(id, batch, false);
  }

  private synchronized int takeFreeBlock() {
    if (free.size() == 0) {
      return -1;
    }
    int b = free.last();
    free.remove(b);
    state[b] = HELD; // allocated by the driver; reclaimable once its hint is queued
    return b;
  }

  private boolean pausing() {
    synchronized (pauseLock) {
      return pausing;
    }
  }

  // Queues the batch's hint; with hold, the blocks then join the held list, where the shrinker
  // may take them back at once (Linux: virtqueue_add_inbuf(), then list_add to free_page_list).
  private void sendRanges(int id, List<Integer> batch, boolean hold) {
    if (batch.isEmpty()) {
      return;
    }
    long[] pfns = new long[batch.size()];
    int[] orders = new int[batch.size()];
    for (int i = 0; i < pfns.length; i++) {
      pfns[i] = (long) batch.get(i) * BLOCK_PAGES;
      orders[i] = BLOCK_ORDER;
    }
    long due = enqueue(Kind.RANGES, id, pfns, orders);
    synchronized (this) {
      for (int b : batch) {
        hintDueNanos[b] = due;
        if (hold) {
          held.add(b);
        }
      }
    }
    batch.clear();
  }

  private synchronized void releaseHeld() {
    while (held.size() > 0) {
      int b = held.last();
      held.remove(b);
      state[b] = FREE;
      free.add(b);
    }
  }

  // ---- the free page virtqueue ------------------------------------------------------------------

  private final SplittableRandom lagRandom; // used by the driver thread only
  private long lastDue;

  // The device takes each element in order, between half and all of vqLagMaxMicros after it was
  // queued: a lag that never builds a backlog longer than vqLagMaxMicros.
  private long enqueue(Kind kind, int id, long[] pfns, int[] orders) {
    while (vq.size() >= VQ_CAPACITY && running) {
      LockSupport.parkNanos(20_000); // the ring is full: wait for the device to use elements
    }
    long max = behaviour.vqLagMaxMicros() * 1_000L;
    long lag = max == 0 ? 0 : max / 2 + lagRandom.nextLong(max / 2 + 1);
    lastDue = Math.max(lastDue, System.nanoTime() + lag);
    vq.add(new VqElement(kind, id, pfns, orders, lastDue));
    return lastDue;
  }

  private void vqLoop() {
    while (running) {
      VqElement e;
      try {
        e = vq.poll(50, TimeUnit.MILLISECONDS);
      } catch (InterruptedException ie) {
        return;
      }
      if (e == null) {
        continue;
      }
      long wait;
      while ((wait = e.dueNanos() - System.nanoTime()) > 0 && running) {
        LockSupport.parkNanos(wait);
      }
      deliver(e);
    }
  }

  private void deliver(VqElement e) {
    try {
      switch (e.kind()) {
        case START -> device.hintStart(e.cmdId());
        case RANGES -> device.hintRanges(e.cmdId(), e.pfns(), e.orders());
        case STOP -> device.hintStop();
      }
    } catch (BalloonException ex) {
      if (!running) {
        return; // the device is being closed under us
      }
      throw new IllegalStateException("stand-in: Hint refused: " + ex.getMessage(), ex);
    }
  }

  // ---- config changes and PAUSE ------------------------------------------------------------------

  @Override
  public void configChanged(ConfigSpace c) {
    events.add(new Event("config", c));
  }

  @Override
  public void pause(ConfigSpace c) {
    events.add(new Event("pause", c));
  }

  @Override
  public void resume(ConfigSpace c) {
    events.add(new Event("resume", c));
  }

  @Override
  public void shutdown(ConfigSpace c) {
    running = false;
  }

  private void eventLoop() {
    while (running) {
      Event e;
      try {
        e = events.poll(50, TimeUnit.MILLISECONDS);
      } catch (InterruptedException ie) {
        return;
      }
      if (e != null) {
        handle(e);
      }
    }
  }

  private void handle(Event e) {
    switch (e.kind()) {
      case "config" -> {
        int id = e.config().freePageHintCmdId();
        if (id == VirtioBalloon.VIRTIO_BALLOON_CMD_ID_DONE) {
          doneRequested = true;
        }
        latestCmdId = id;
      }
      case "pause" -> {
        if (behaviour.answersPause()) {
          answerPause();
        }
      }
      case "resume" -> {
        resumes.incrementAndGet();
        synchronized (pauseLock) {
          pausing = false;
          pauseLock.notifyAll();
        }
      }
      default -> throw new IllegalStateException("unknown event " + e.kind());
    }
  }

  private void answerPause() {
    synchronized (pauseLock) {
      pausing = true;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
      while (behaviour.vcpu().intervalMicros() > 0 && !vcpuParked && running) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new IllegalStateException("stand-in: vCPU did not stop within 2 s");
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(pauseLock, left);
        } catch (InterruptedException ie) {
          return;
        }
      }
    }
    try {
      device.paused(ownedBitmap(), 0);
    } catch (BalloonException ex) {
      throw new IllegalStateException("stand-in: Paused refused: " + ex.getMessage(), ex);
    }
  }

  // Parks the vCPU while paused; false when the guest shuts down.
  private boolean safePoint() {
    synchronized (pauseLock) {
      while (pausing && running) {
        vcpuParked = true;
        pauseLock.notifyAll();
        try {
          pauseLock.wait(50);
        } catch (InterruptedException ie) {
          return false;
        }
      }
      vcpuParked = false;
      return running;
    }
  }

  // The owned pages as the Paused answer carries them: LE words as bytes.
  private synchronized byte[] ownedBitmap() {
    byte[] out = new byte[(int) ((device.memory().pages() + 63) >>> 6) * 8];
    for (int b = 0; b < blocks; b++) {
      if (state[b] == OWNED) {
        for (int i = 0; i < BLOCK_PAGES; i++) {
          int pfn = b * BLOCK_PAGES + i;
          out[pfn >>> 3] |= (byte) (1 << (pfn & 7));
        }
      }
    }
    return out;
  }

  /** Pages in owned blocks now. */
  synchronized long ownedPages() {
    return ((long) owned.size() + behaviour.vcpu().hotBlocks()) * BLOCK_PAGES;
  }

  /** Blocks the vCPU allocated and wrote while their hint was still on its way to the device. */
  long racedWrites() {
    return racedWrites.get();
  }

  /** Blocks the driver holds (hinted, not released). */
  synchronized long heldBlocks() {
    return held.size();
  }

  /** Owned blocks that held all-zero content at the start. */
  long zeroBlocksAtStart() {
    return zeroBlocksAtStart;
  }

  /** Free blocks never written at the start (holes of the RAM file). */
  long holeBlocksAtStart() {
    return holeBlocksAtStart;
  }

  /** RESUME events handled. */
  long resumes() {
    return resumes.get();
  }

  /** The first exception a stand-in thread died of, or null. */
  Throwable failure() {
    return failure.get();
  }

  private void spawn(String name, Runnable body) {
    Runnable guarded = () -> {
      try {
        body.run();
      } catch (RuntimeException | Error e) {
        failure.compareAndSet(null, e);
      }
    };
    Thread t = new Thread(guarded, name + "-" + device.guestId());
    t.setDaemon(true);
    threads.add(t);
    t.start();
  }

  /** Stops every thread (bounded join) and unmaps the RAM. */
  @Override
  public void close() throws InterruptedException {
    running = false;
    device.setEvents(null);
    for (Thread t : threads) {
      t.interrupt();
    }
    for (Thread t : threads) {
      t.join(JOIN_MS);
      if (t.isAlive()) {
        throw new IllegalStateException("stand-in thread " + t.getName() + " did not stop");
      }
    }
    arena.close();
  }

  /** A set of block numbers with O(1) add, remove, random pick and last-added pick. */
  private static final class BlockSet {
    private final int[] items;
    private final int[] pos;
    private int size;

    BlockSet(int capacity) {
      items = new int[capacity];
      pos = new int[capacity];
      java.util.Arrays.fill(pos, -1);
    }

    int size() {
      return size;
    }

    void add(int b) {
      pos[b] = size;
      items[size++] = b;
    }

    void remove(int b) {
      int i = pos[b];
      int moved = items[--size];
      items[i] = moved;
      pos[moved] = i;
      pos[b] = -1;
    }

    int random(SplittableRandom rnd) {
      return items[rnd.nextInt(size)];
    }

    int last() {
      return items[size - 1];
    }

    int at(int i) {
      return items[i];
    }
  }
}
