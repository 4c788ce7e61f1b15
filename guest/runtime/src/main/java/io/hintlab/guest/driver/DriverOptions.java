package io.hintlab.guest.driver;

import java.time.Duration;
import java.util.function.IntConsumer;

/**
 * How a {@link BalloonDriver} runs, besides what the device negotiated.
 *
 * @param cpu the allocator cpu the driver's own thread allocates and frees on ({@link #CPU_LAST}:
 *     the allocator's last cpu, as the reporting strategies' isolation cpu)
 * @param statsInterval how often the stats timer sends {@code update_balloon_stats()} when
 *     STATS_VQ was negotiated; zero sends no stats
 * @param releasedPageInit what the kernel's free path does to a deflated page before it goes back
 *     to the buddy, called with the guest pfn: with {@code page_poison=1} the page is poisoned
 *     (virtio spec 5.5.3: with PAGE_POISON the driver writes poison_val to pages after deflating
 *     them); {@link #NO_INIT} otherwise
 */
public record DriverOptions(int cpu, Duration statsInterval, IntConsumer releasedPageInit) {
  /** The allocator's last cpu. */
  public static final int CPU_LAST = -1;

  /** Deflated pages are returned as they are. */
  public static final IntConsumer NO_INIT = pfn -> {};

  /**
   * Checks the values.
   *
   * @throws IllegalArgumentException if the cpu is below {@link #CPU_LAST}, the interval is null
   *     or negative, or the page init is null
   */
  public DriverOptions {
    if (cpu < CPU_LAST) {
      throw new IllegalArgumentException("cpu must be -1 (the last cpu) or >= 0, got " + cpu);
    }
    if (statsInterval == null || statsInterval.isNegative()) {
      throw new IllegalArgumentException("statsInterval must be >= 0, got " + statsInterval);
    }
    if (releasedPageInit == null) {
      throw new IllegalArgumentException("releasedPageInit must not be null");
    }
  }

  /**
   * The last cpu, no stats, no page init.
   *
   * @return the options
   */
  public static DriverOptions defaults() {
    return new DriverOptions(CPU_LAST, Duration.ZERO, NO_INIT);
  }

  /**
   * A copy with another cpu.
   *
   * @param newCpu a cpu index or {@link #CPU_LAST}
   * @return the copy
   */
  public DriverOptions withCpu(int newCpu) {
    return new DriverOptions(newCpu, statsInterval, releasedPageInit);
  }

  /**
   * A copy with another stats interval.
   *
   * @param interval the interval; zero sends no stats
   * @return the copy
   */
  public DriverOptions withStatsInterval(Duration interval) {
    return new DriverOptions(cpu, interval, releasedPageInit);
  }

  /**
   * A copy with another deflated-page init.
   *
   * @param init called with each deflated guest pfn before it is freed
   * @return the copy
   */
  public DriverOptions withReleasedPageInit(IntConsumer init) {
    return new DriverOptions(cpu, statsInterval, init);
  }
}
