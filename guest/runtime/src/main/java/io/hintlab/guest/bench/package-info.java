/**
 * {@code bench alloc}: a timed-iteration harness over the allocator model ({@link
 * io.hintlab.guest.bench.AllocBenchmark} is the entry point), each measurement optionally in a
 * child JVM ({@link io.hintlab.guest.bench.BenchChild}). Figures and how to read them are in
 * BENCHMARKS.md.
 */
package io.hintlab.guest.bench;
