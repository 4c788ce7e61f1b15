package io.hintlab.guest.driver;

import java.util.concurrent.atomic.LongAdder;

/**
 * The driver's counters, added to from the driver's thread, the stats timer, allocating threads
 * (the OOM notifier) and migrating threads (balloon page migration). See {@link DriverMetrics}
 * for what each counts.
 *
 * <p><b>Note:</b> thread-safe.
 */
final class DriverCounters {
  final LongAdder inflatedPages = new LongAdder();
  final LongAdder deflatedPages = new LongAdder();
  final LongAdder oomDeflatedPages = new LongAdder();
  final LongAdder migrations = new LongAdder();
  final LongAdder statsSent = new LongAdder();
  final LongAdder failures = new LongAdder();
  final LongAdder outOfPuff = new LongAdder();

  /**
   * The counters now.
   *
   * @param balloonPages pages in the balloon now
   * @return the snapshot
   */
  DriverMetrics snapshot(long balloonPages) {
    return new DriverMetrics(balloonPages, inflatedPages.sum(), deflatedPages.sum(),
        oomDeflatedPages.sum(), migrations.sum(), statsSent.sum(), failures.sum(),
        outOfPuff.sum());
  }
}
