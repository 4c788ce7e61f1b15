package io.hintlab.guest.bench;

/**
 * A timed-iteration harness: warm-up iterations (not recorded) so that the JIT compiles the
 * measured path, then measured iterations of a fixed wall-clock length, each running the
 * operation in batches until its time is up. Throughput is reported per iteration, so the spread
 * between the slowest and the fastest shows noise from the machine.
 */
final class Measure {
  /** Ops per batch between two clock reads. */
  static final int BATCH = 4096;

  /** An operation that runs {@code n} ops (alloc+free pairs, workload steps...). */
  interface Batch {
    void run(int n);
  }

  private Measure() {}

  /**
   * Runs {@code warmups} then {@code iterations} iterations of {@code iterationMs} each.
   *
   * @throws IllegalArgumentException for a negative warm-up count, or fewer than one iteration or
   *     one millisecond
   */
  static Throughput run(Batch op, int warmups, int iterations, long iterationMs) {
    if (warmups < 0 || iterations < 1 || iterationMs < 1) {
      throw new IllegalArgumentException(
          "need warmups >= 0, iterations >= 1 and iterationMs >= 1, got " + warmups + ", "
              + iterations + ", " + iterationMs);
    }
    long nanos = iterationMs * 1_000_000L;
    for (int i = 0; i < warmups; i++) {
      iteration(op, nanos);
    }
    double min = Double.MAX_VALUE;
    double max = 0;
    long totalOps = 0;
    long totalNanos = 0;
    for (int i = 0; i < iterations; i++) {
      long start = System.nanoTime();
      long ops = iteration(op, nanos);
      long elapsed = System.nanoTime() - start;
      double rate = ops * 1e9 / elapsed;
      min = Math.min(min, rate);
      max = Math.max(max, rate);
      totalOps += ops;
      totalNanos += elapsed;
    }
    return new Throughput(totalOps * 1e9 / totalNanos, min, max, totalOps, iterations);
  }

  private static long iteration(Batch op, long nanos) {
    long deadline = System.nanoTime() + nanos;
    long ops = 0;
    do {
      op.run(BATCH);
      ops += BATCH;
    } while (System.nanoTime() < deadline);
    return ops;
  }
}
