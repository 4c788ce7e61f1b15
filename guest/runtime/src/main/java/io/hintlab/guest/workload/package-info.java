/**
 * Workloads that drive the allocator model: seeded, deterministic generators ({@link
 * io.hintlab.guest.workload.Workloads}: {@code churn}, {@code contig}, {@code fragment}, {@code
 * idle}, {@code memhog}, {@code mixed}, {@code thp}, and {@code replay} of an ftrace recording
 * parsed by {@link io.hintlab.guest.workload.FtraceParser}) that keep the blocks they hold in
 * primitive arrays ({@link io.hintlab.guest.workload.LiveBlocks}), take their parameters in a
 * {@link io.hintlab.guest.workload.WorkloadConfig}, and write and verify the pages they hold
 * through a {@link io.hintlab.guest.workload.PageWriter} when guest RAM is attached.
 */
package io.hintlab.guest.workload;
