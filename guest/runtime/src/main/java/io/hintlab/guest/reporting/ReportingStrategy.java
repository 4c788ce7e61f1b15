package io.hintlab.guest.reporting;

import io.hintlab.guest.mm.PageAllocator;

/**
 * The pluggable part of free memory reporting: which blocks a pass takes, how they travel to the
 * host and what happens to them afterwards. A {@link ReportingAgent} owns the thread, the state
 * machine and the delay, and calls the strategy in the shape of an Agrona {@code Agent}: {@link
 * #onStart} once, {@link #doWork} once per pass, {@link #onClose} once. Strategies are created by
 * name through {@link ReportingStrategies}; a new strategy is one class plus one registry entry.
 *
 * <p><b>Note:</b> {@link #doWork} runs only on the reporting thread, one pass at a time; hooks the
 * strategy installs in the allocator run on allocating threads and may only call {@link
 * ReportingContext#request()}.
 */
public interface ReportingStrategy {
  /** The registry name, also the reporting thread's name ({@code page-reporting}). */
  String name();

  /**
   * Installs the strategy's hooks in the allocator (the registration half of {@code
   * page_reporting_register()}). The agent requests the first pass right after.
   *
   * @param ctx the agent's context, valid until {@link #onClose}
   */
  void onStart(ReportingContext ctx);

  /**
   * Runs one pass.
   *
   * @param ctx the agent's context
   * @return the number of pages reported by the pass
   */
  int doWork(ReportingContext ctx);

  /**
   * Removes the strategy's hooks from the allocator (the unpublishing half of {@code
   * page_reporting_unregister()}). No request reaches the agent through them afterwards.
   */
  void onClose();

  /** Creates a strategy for an allocator. */
  @FunctionalInterface
  interface Factory {
    /**
     * Creates the strategy.
     *
     * @param allocator the allocator whose free memory is reported
     * @param options the options; the strategy reads those that apply to it
     * @return the strategy, not yet started
     * @throws IllegalArgumentException if an option does not fit the allocator
     */
    ReportingStrategy create(PageAllocator allocator, ReportingOptions options);
  }
}
