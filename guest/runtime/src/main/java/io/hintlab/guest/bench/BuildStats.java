package io.hintlab.guest.bench;

/**
 * Build time and heap of one guest size, measured in one JVM.
 *
 * @param memoryBytes the guest size
 * @param runs builds measured
 * @param firstSeconds the first build (JIT cold)
 * @param meanSeconds mean over the builds
 * @param minSeconds fastest build
 * @param maxSeconds slowest build
 * @param heapBytes heap in use after a full GC with the last model reachable (JVM baseline
 *     included)
 * @param modelHeapBytes that minus the heap in use after a full GC before the build
 * @param maxHeapBytes the JVM's maximum heap ({@code Runtime.maxMemory()})
 * @param pages pfns of the model
 */
public record BuildStats(
    long memoryBytes, int runs, double firstSeconds, double meanSeconds, double minSeconds,
    double maxSeconds, long heapBytes, long modelHeapBytes, long maxHeapBytes, long pages) {}
