/**
 * {@code hintlab guest sim}: the allocator model driven alone (no host) by a workload on a
 * simulated clock, with THP attempts, contiguous allocations and the periodic kernel work (vmstat,
 * kswapd, kcompactd) interleaved, under a chosen compaction policy; the outcome as counters.
 */
package io.hintlab.guest.sim;
