package io.hintlab.guest.run;

import io.hintlab.guest.driver.FreePageVq;
import io.hintlab.guest.reporting.FreeListWalkStrategy;
import io.hintlab.guest.reporting.HintAllocHoldStrategy;
import io.hintlab.guest.reporting.ReportingOptions;
import io.hintlab.guest.transport.CallDeadlines;
import io.hintlab.guest.transport.GuestAddress;
import io.hintlab.guest.transport.ReconnectPolicy;
import io.hintlab.guest.workload.WorkloadConfig;
import java.time.Duration;

/**
 * What one {@link GuestRun} does: where the host is, the guest's size, the workload, the reporting
 * strategy, what the balloon driver negotiates and what to do when the host goes away. The
 * command line builds it and checks each option with a message naming it; the constructor checks
 * the rest.
 *
 * @param host where the host listens
 * @param guestName the name the host shows for this guest
 * @param memoryBytes guest RAM in bytes, a multiple of the page size
 * @param residentBytes memory the guest's kernel and page cache keep in use for the whole run
 *     (a {@link io.hintlab.guest.workload.ResidentSet}), allocated and written before the first
 *     round and freed at the end; 0 for none; less than {@code memoryBytes}
 * @param cpus cpus of the allocator model
 * @param strategy the reporting strategy's registry name
 * @param reporting the strategy's options; order {@link ReportingOptions#ORDER_UNSPECIFIED}
 *     takes the device's reporting order, or the pageblock order when the device names none
 * @param workload the workload's registry name
 * @param workloadConfig the workload's arguments and trace (its page writer is replaced)
 * @param seed the workload's seed
 * @param ops the workload's amount of work per round (0: its default)
 * @param stepRate workload steps per second in real time, 0 for as fast as the model goes; a
 *     paced workload holds its pages for realistic times
 * @param duration how long the run lasts: rounds repeat until it is spent; zero for one round
 * @param idle how long the guest stays idle after each round (real time, one vmstat tick a
 *     second); a run with a duration is cut at its end
 * @param poison page_poison=1: negotiate PAGE_POISON and poison freed pages
 * @param statsInterval how often the balloon driver sends memory statistics; zero: STATS_VQ is
 *     not negotiated
 * @param deflateOnOom negotiate DEFLATE_ON_OOM when the device offers it (the balloon gives pages
 *     back before an allocation fails)
 * @param initOnAlloc init_on_alloc=1: every allocated block is zeroed in the RAM, which dirties
 *     it (workload pages, balloon pages, the blocks a hinting strategy holds)
 * @param hintQueue free-list-walk only: hint through the free page hint queue under the device's
 *     command ids (negotiating FREE_PAGE_HINT) instead of reporting
 * @param freePageVqSize descriptors of the free page virtqueue, at least {@value
 *     FreePageVq#MIN_SIZE} ({@link FreePageVq#QEMU_FREE_PAGE_VQ_SIZE} is QEMU's)
 * @param reconnect what to do when the host goes away
 * @param deadlines the deadline of every call to the host
 */
public record RunOptions(
    GuestAddress host,
    String guestName,
    long memoryBytes,
    long residentBytes,
    int cpus,
    String strategy,
    ReportingOptions reporting,
    String workload,
    WorkloadConfig workloadConfig,
    long seed,
    long ops,
    long stepRate,
    Duration duration,
    Duration idle,
    boolean poison,
    Duration statsInterval,
    boolean deflateOnOom,
    boolean initOnAlloc,
    boolean hintQueue,
    int freePageVqSize,
    ReconnectPolicy reconnect,
    CallDeadlines deadlines) {

  /**
   * Checks what the command line cannot.
   *
   * @throws IllegalArgumentException naming the bad value
   */
  public RunOptions {
    if (host == null || guestName == null || strategy == null || reporting == null
        || workload == null || workloadConfig == null || duration == null || idle == null
        || statsInterval == null || reconnect == null || deadlines == null) {
      throw new IllegalArgumentException("no run option may be null");
    }
    if (memoryBytes <= 0) {
      throw new IllegalArgumentException("memory must be positive, got " + memoryBytes);
    }
    if (residentBytes < 0) {
      throw new IllegalArgumentException("resident must be >= 0, got " + residentBytes);
    }
    if (residentBytes >= memoryBytes) {
      throw new IllegalArgumentException("resident must be less than the memory size "
          + size(memoryBytes) + ", was " + size(residentBytes));
    }
    if (cpus < 1) {
      throw new IllegalArgumentException("cpus must be at least 1, got " + cpus);
    }
    if (ops < 0) {
      throw new IllegalArgumentException("ops must be >= 0, got " + ops);
    }
    if (stepRate < 0) {
      throw new IllegalArgumentException("stepRate must be >= 0, got " + stepRate);
    }
    if (freePageVqSize < FreePageVq.MIN_SIZE) {
      throw new IllegalArgumentException("freePageVqSize must be at least " + FreePageVq.MIN_SIZE
          + " (one descriptor is reserved for the cmd id), got " + freePageVqSize);
    }
    if (duration.isNegative() || idle.isNegative()) {
      throw new IllegalArgumentException("duration and idle must be >= 0");
    }
    if (statsInterval.isNegative()) {
      throw new IllegalArgumentException("statsInterval must be >= 0, got " + statsInterval);
    }
    if (hintQueue && !strategy.equals(FreeListWalkStrategy.NAME)) {
      throw new IllegalArgumentException("hintQueue is for " + FreeListWalkStrategy.NAME
          + " only (" + HintAllocHoldStrategy.NAME + " always hints through the free page hint"
          + " queue), not " + strategy);
    }
  }

  /** Bytes for a message: in GiB or MiB when they divide them, else in bytes. */
  private static String size(long bytes) {
    if (bytes > 0 && bytes % (1L << 30) == 0) {
      return (bytes >> 30) + " GiB";
    }
    if (bytes > 0 && bytes % (1L << 20) == 0) {
      return (bytes >> 20) + " MiB";
    }
    return bytes + " bytes";
  }
}
