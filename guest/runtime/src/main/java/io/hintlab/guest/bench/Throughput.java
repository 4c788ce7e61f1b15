package io.hintlab.guest.bench;

/**
 * Throughput of one benchmark over its measured iterations.
 *
 * @param mean ops/s over all measured iterations (total ops / total time)
 * @param min the slowest iteration's ops/s
 * @param max the fastest iteration's ops/s
 * @param ops ops in the measured iterations
 * @param iterations measured iterations
 */
public record Throughput(double mean, double min, double max, long ops, int iterations) {}
