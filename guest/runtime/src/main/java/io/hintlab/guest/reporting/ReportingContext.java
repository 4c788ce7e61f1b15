package io.hintlab.guest.reporting;

/**
 * What a {@link ReportingStrategy} gets from the agent that runs it: a way to ask for a pass, the
 * driver's report callback, and the counters.
 */
public interface ReportingContext {
  /**
   * __page_reporting_request(): asks for a pass after the agent's delay; requests made while one is
   * pending or running merge into one rerun. Called from any thread, also with a zone lock held
   * (the free path's notifier) and from inside a pass (a spent budget); it only changes the agent's
   * atomic state and may queue the delayed work, never calls into the allocator.
   */
  void request();

  /** The driver's report callback ({@code prdev->report}). */
  ReportSink sink();

  /** The counters the strategy updates. */
  ReportingMetrics metrics();
}
