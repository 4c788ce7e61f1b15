/**
 * Free memory reporting (DESIGN section 4): one reporting thread shape, {@link
 * io.hintlab.guest.reporting.ReportingAgent} with the kernel's IDLE / REQUESTED / ACTIVE state
 * machine and delay, and pluggable {@link io.hintlab.guest.reporting.ReportingStrategy}s chosen by
 * name through {@link io.hintlab.guest.reporting.ReportingStrategies}, tuned by {@link
 * io.hintlab.guest.reporting.ReportingOptions}. A strategy hands batches of free blocks to a {@link
 * io.hintlab.guest.reporting.ReportSink}, the driver's synchronous report callback, which a
 * transport implements as an RPC to the host.
 *
 * <p>Strategies: {@code page-reporting} ({@link io.hintlab.guest.reporting.PageReportingStrategy},
 * Linux's mm/page_reporting.c, the default); {@code isolate-report} ({@link
 * io.hintlab.guest.reporting.IsolateReportStrategy}, reporting through page isolation as proposed
 * in 2019); {@code bitmap-hinting} ({@link io.hintlab.guest.reporting.BitmapHintingStrategy}, the
 * per-zone bitmap design); {@code hint-alloc-hold} ({@link
 * io.hintlab.guest.reporting.HintAllocHoldStrategy}, Linux's free page hinting driver: blocks
 * allocated and held until the device says DONE, sent to a {@link
 * io.hintlab.guest.reporting.HintSink} when the device hands out a command id through {@link
 * io.hintlab.guest.reporting.HintCommandTarget}); {@code free-list-walk} ({@link
 * io.hintlab.guest.reporting.FreeListWalkStrategy}, the 2017 report_unused_page_block() iterator,
 * with its original and a progressing cursor). Passes run on a {@link
 * io.hintlab.guest.reporting.WorkScheduler}: a named daemon thread in a process, a virtual clock
 * in tests and simulations.
 */
package io.hintlab.guest.reporting;
