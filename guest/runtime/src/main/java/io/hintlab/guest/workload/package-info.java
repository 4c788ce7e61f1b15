/**
 * Workloads that drive the allocator model: seeded, deterministic generators ({@link
 * io.hintlab.guest.workload.Workloads}: {@code fragment}, {@code mixed}, {@code idle}) that keep
 * the blocks they hold in primitive arrays ({@link io.hintlab.guest.workload.LiveBlocks}), and the
 * ftrace parser of the replay workload ({@link io.hintlab.guest.workload.FtraceParser}).
 */
package io.hintlab.guest.workload;
