package io.hintlab.guest.workload;

import io.hintlab.guest.mm.PageAllocator;

/**
 * A seeded, deterministic generator of allocations and frees that drives one {@link
 * PageAllocator} from the calling thread. The same name, seed, allocator configuration and ops
 * give the same sequence of calls and the same allocator state.
 *
 * <p>Create one with {@link Workloads#create}. A workload keeps the blocks it holds between runs,
 * so {@link #run} may be called repeatedly (the benchmark does) and {@link #releaseAll} gives
 * everything back.
 *
 * <p><b>Note:</b> not thread-safe: one thread drives one workload.
 */
public interface Workload {
  /** The registry name ({@code fragment}, {@code mixed}, {@code idle}). */
  String name();

  /** The seed. */
  long seed();

  /** The allocator driven. */
  PageAllocator allocator();

  /**
   * Runs the workload.
   *
   * @param ops the workload's unit of work (see {@link Workloads#describe}); 0 means its default
   * @return what this run did (counts of this call only; live counts at its end)
   * @throws IllegalArgumentException if ops is negative
   */
  WorkloadResult run(long ops);

  /** The blocks held now. */
  LiveBlocks live();

  /** Frees every block the workload holds. */
  void releaseAll();

  /**
   * Installs a hook called after each allocator call the workload makes (an allocation attempt or
   * a free), so that a driver can interleave its own work with the workload's (THP attempts, clock
   * ticks). The step it follows is complete when the hook runs, so the hook may also throw to
   * abandon the run; the workload stays consistent. Null removes it.
   */
  void setStepHook(Runnable hook);
}
