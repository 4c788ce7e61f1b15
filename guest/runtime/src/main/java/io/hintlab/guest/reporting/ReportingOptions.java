package io.hintlab.guest.reporting;

import java.time.Duration;

/**
 * The tunable numbers of a reporting strategy (DESIGN section 4), so that a user can try a policy
 * without writing code. The defaults are Linux's free page reporting. A strategy reads the fields
 * that apply to it and documents which.
 *
 * @param order the lowest order reported ({@code page_reporting_order}), or {@link
 *     #ORDER_UNSPECIFIED} for the allocator's pageblock order, the kernel's default; a strategy
 *     checks the upper bound against the allocator's geometry
 * @param capacity blocks per report call ({@code PAGE_REPORTING_CAPACITY}, the scatterlist size), a
 *     power of two in [1, {@value #MAX_CAPACITY}]
 * @param delay how long a request waits before the pass runs ({@code PAGE_REPORTING_DELAY}), and so
 *     the shortest time between two passes
 * @param budgetDivisor a pass may make {@code DIV_ROUND_UP(nr_free, capacity * budgetDivisor)} + 1
 *     report calls per free list (the kernel's 16: about a sixteenth of each list per pass); 0
 *     removes the budget (the v5.7-rc form without one)
 * @param batchSize blocks per message for strategies that batch independently of the report
 *     capacity (the bitmap hinting design pulls 16 at a time); {@code page-reporting} does not use
 *     it
 * @param cursor how {@code free-list-walk} resumes its walk of a free list (see {@link Cursor})
 * @param isolationCpu the cpu index {@code isolate-report} hands to {@code
 *     start_isolate_page_range()}, which migrates a movable block straddling the isolated range
 *     on it (the target is allocated and the source freed through that cpu's per-cpu lists and
 *     counters, which only one thread may use at a time), or {@link #CPU_UNSPECIFIED} for the
 *     allocator's last cpu; the strategy checks the upper bound against the allocator
 */
public record ReportingOptions(
    int order,
    int capacity,
    Duration delay,
    int budgetDivisor,
    int batchSize,
    Cursor cursor,
    int isolationCpu) {

  /**
   * The cursor of the {@code report_unused_page_block()} walk (Wei Wang, "[PATCH v12 6/8] mm:
   * support reporting free page blocks", 2017-07).
   */
  public enum Cursor {
    /**
     * The patch as posted: the cursor is the block last offered; when it is no longer a free block
     * of the list's order the walk restarts at the list head, which "might keep giving you same
     * block over and over again" (Michael S. Tsirkin's review of v12).
     */
    ORIGINAL,
    /**
     * The cursor is the pfn of the block last offered; the next block is the list's block with
     * the lowest pfn above it, so every step moves forward whatever happens to the lists.
     */
    PROGRESS
  }

  /**
   * The order a strategy uses: {@link #order()}, or {@code dflt} when it is {@link
   * #ORDER_UNSPECIFIED}, checked against the range the strategy supports.
   *
   * @param dflt the strategy's default order
   * @param min the lowest order the strategy supports
   * @param max the highest (the geometry's MAX_PAGE_ORDER)
   * @return the order
   * @throws IllegalArgumentException naming the range and the order, if it is outside
   */
  public int resolveOrder(int dflt, int min, int max) {
    int o = order == ORDER_UNSPECIFIED ? dflt : order;
    if (o < min || o > max) {
      throw new IllegalArgumentException(
          "order must be in [" + min + ", " + max + "], got " + o);
    }
    return o;
  }

  /** The isolation cpu is the allocator's last cpu. */
  public static final int CPU_UNSPECIFIED = -1;

  /** The order is the allocator's pageblock order (page_reporting_register()'s fallback). */
  public static final int ORDER_UNSPECIFIED = -1;

  /**
   * PAGE_REPORTING_CAPACITY (include/linux/page_reporting.h): 32 scatterlist entries per report.
   * QEMU sizes its reporting virtqueue to exactly this, and the driver refuses a smaller ring.
   */
  public static final int PAGE_REPORTING_CAPACITY = 32;

  /**
   * The largest capacity accepted: a virtqueue holds at most 1024 descriptors (VIRTQUEUE_MAX_SIZE),
   * and a report is one descriptor chain.
   */
  public static final int MAX_CAPACITY = 1024;

  /**
   * PAGE_REPORTING_DELAY (mm/page_reporting.c): 2 s, "to allow a sizable queue to build", which
   * also limits reporting to one pass every couple of seconds.
   */
  public static final Duration PAGE_REPORTING_DELAY = Duration.ofSeconds(2);

  /**
   * The kernel's budget divisor: with {@code DIV_ROUND_UP(nr_free, CAPACITY * 16)} calls per list
   * and a pass every 2 s, "reporting all pages on an idle system in about 30 seconds" (Duyck).
   */
  public static final int PAGE_REPORTING_BUDGET_DIVISOR = 16;

  /** Batch size default: the per-zone bitmap design's batches of 16. */
  public static final int DEFAULT_BATCH_SIZE = 16;

  /** Validates the options; every message names the field and the value. */
  public ReportingOptions {
    if (order < ORDER_UNSPECIFIED) {
      throw new IllegalArgumentException(
          "order must be -1 (the pageblock order) or >= 0, got " + order);
    }
    if (capacity < 1 || capacity > MAX_CAPACITY || Integer.bitCount(capacity) != 1) {
      throw new IllegalArgumentException(
          "capacity must be a power of two in [1, " + MAX_CAPACITY + "], got " + capacity);
    }
    if (delay == null) {
      throw new IllegalArgumentException("delay must not be null");
    }
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay must be >= 0, got " + delay);
    }
    if (budgetDivisor < 0) {
      throw new IllegalArgumentException(
          "budgetDivisor must be >= 0 (0 = no budget), got " + budgetDivisor);
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
    }
    if (cursor == null) {
      throw new IllegalArgumentException("cursor must not be null");
    }
    if (isolationCpu < CPU_UNSPECIFIED) {
      throw new IllegalArgumentException(
          "isolationCpu must be -1 (the last cpu) or >= 0, got " + isolationCpu);
    }
  }

  /**
   * Options with the walk cursor that makes progress and the default isolation cpu.
   *
   * @param order the lowest order reported, or {@link #ORDER_UNSPECIFIED}
   * @param capacity blocks per report call
   * @param delay the delay between a request and its pass
   * @param budgetDivisor the budget divisor, or 0 for no budget
   * @param batchSize blocks per message for batching strategies
   * @throws IllegalArgumentException if a value is out of range
   */
  public ReportingOptions(
      int order, int capacity, Duration delay, int budgetDivisor, int batchSize) {
    this(order, capacity, delay, budgetDivisor, batchSize, Cursor.PROGRESS, CPU_UNSPECIFIED);
  }

  /** Linux's free page reporting: pageblock order, 32 per call, 2 s, a sixteenth per pass. */
  public static ReportingOptions defaults() {
    return new ReportingOptions(
        ORDER_UNSPECIFIED,
        PAGE_REPORTING_CAPACITY,
        PAGE_REPORTING_DELAY,
        PAGE_REPORTING_BUDGET_DIVISOR,
        DEFAULT_BATCH_SIZE);
  }

  /**
   * These options with another order.
   *
   * @param newOrder the lowest order reported, or {@link #ORDER_UNSPECIFIED}
   * @return the new options
   * @throws IllegalArgumentException if the order is below -1
   */
  public ReportingOptions withOrder(int newOrder) {
    return new ReportingOptions(
        newOrder, capacity, delay, budgetDivisor, batchSize, cursor, isolationCpu);
  }

  /**
   * These options with another capacity.
   *
   * @param newCapacity blocks per report call
   * @return the new options
   * @throws IllegalArgumentException if it is not a power of two in [1, 1024]
   */
  public ReportingOptions withCapacity(int newCapacity) {
    return new ReportingOptions(
        order, newCapacity, delay, budgetDivisor, batchSize, cursor, isolationCpu);
  }

  /**
   * These options with another delay.
   *
   * @param newDelay the delay between a request and its pass
   * @return the new options
   * @throws IllegalArgumentException if it is null or negative
   */
  public ReportingOptions withDelay(Duration newDelay) {
    return new ReportingOptions(
        order, capacity, newDelay, budgetDivisor, batchSize, cursor, isolationCpu);
  }

  /**
   * These options with another budget divisor.
   *
   * @param newBudgetDivisor the divisor, or 0 for no budget
   * @return the new options
   * @throws IllegalArgumentException if it is negative
   */
  public ReportingOptions withBudgetDivisor(int newBudgetDivisor) {
    return new ReportingOptions(
        order, capacity, delay, newBudgetDivisor, batchSize, cursor, isolationCpu);
  }

  /**
   * These options with another batch size.
   *
   * @param newBatchSize blocks per message
   * @return the new options
   * @throws IllegalArgumentException if it is below 1
   */
  public ReportingOptions withBatchSize(int newBatchSize) {
    return new ReportingOptions(
        order, capacity, delay, budgetDivisor, newBatchSize, cursor, isolationCpu);
  }

  /**
   * These options with another walk cursor.
   *
   * @param newCursor the cursor of {@code free-list-walk}
   * @return the new options
   * @throws IllegalArgumentException if it is null
   */
  public ReportingOptions withCursor(Cursor newCursor) {
    return new ReportingOptions(
        order, capacity, delay, budgetDivisor, batchSize, newCursor, isolationCpu);
  }

  /**
   * These options with another isolation cpu.
   *
   * @param newIsolationCpu the cpu index, or {@link #CPU_UNSPECIFIED}
   * @return the new options
   * @throws IllegalArgumentException if it is below -1
   */
  public ReportingOptions withIsolationCpu(int newIsolationCpu) {
    return new ReportingOptions(
        order, capacity, delay, budgetDivisor, batchSize, cursor, newIsolationCpu);
  }
}
