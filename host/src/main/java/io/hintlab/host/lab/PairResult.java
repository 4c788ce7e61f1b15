package io.hintlab.host.lab;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What one pair run measured, from both sides: the host's view of the guest's RAM file (sampled
 * through {@code GetGuest}) and the guest's own summary ({@code guest run --json}).
 *
 * @param options the scenario
 * @param hostAddress where the host listened
 * @param guest the guest's summary
 * @param guestExitCode the guest process's exit code
 * @param watch the host's samples of the guest
 * @param balloonStepsApplied balloon targets the host accepted
 * @param hintRoundsStarted hinting rounds the host started
 * @param controlErrors control calls the host refused
 * @param wallSeconds seconds from the guest's attach to its exit
 * @param problem why the run failed, or empty
 */
public record PairResult(
    PairOptions options,
    String hostAddress,
    GuestReport guest,
    int guestExitCode,
    GuestWatch watch,
    int balloonStepsApplied,
    int hintRoundsStarted,
    List<String> controlErrors,
    double wallSeconds,
    Optional<String> problem) {

  /** Copies the list. */
  public PairResult {
    controlErrors = List.copyOf(controlErrors);
  }

  /** 0 when the run succeeded, 1 when the guest or the measurement failed. */
  public int exitCode() {
    return problem.isPresent() ? 1 : 0;
  }

  /** The host's peak of the RAM file's allocated bytes. */
  public long rssPeakBytes() {
    return watch.peakBytes();
  }

  /** The RAM file's allocated bytes at the last sample while attached (-1 if unknown). */
  public long rssEndBytes() {
    OptionalLong end = watch.endBytes();
    return end.isPresent() ? end.getAsLong() : -1;
  }

  /** End over peak in percent, or NaN when either is unknown. */
  public double rssEndPercentOfPeak() {
    return rssPeakBytes() > 0 && rssEndBytes() >= 0 ? 100.0 * rssEndBytes() / rssPeakBytes()
        : Double.NaN;
  }

  /** Bytes in report batches the host acknowledged, as the guest counted them. */
  public long reportedBytes() {
    return guest.number("reported_bytes");
  }

  /** Reported bytes in percent of the guest's memory. */
  public double reportedPercentOfMemory() {
    return 100.0 * reportedBytes() / options.memoryBytes();
  }

  /** A host counter for the guest at the most recent sample (0 if absent). */
  public long hostCounter(String name) {
    return watch.counters().getOrDefault(name, 0L);
  }

  /**
   * The result as the pair's JSON object: the keys below, the host's counters under {@code
   * host_counters} and the guest's whole summary under {@code guest}.
   *
   * @return an ordered map
   */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("strategy", options.strategy());
    m.put("workload", options.workload());
    m.put("seed", options.seed());
    m.put("seconds", options.seconds());
    m.put("guest_memory_bytes", options.memoryBytes());
    m.put("host_mode", options.mode().wireName());
    m.put("transport", options.transport().toString());
    m.put("host", hostAddress);
    m.put("host_rss_peak_bytes", rssPeakBytes());
    m.put("host_rss_end_bytes", rssEndBytes());
    m.put("host_rss_end_percent_of_peak", round1(rssEndPercentOfPeak()));
    m.put("reported_bytes", reportedBytes());
    m.put("report_batches", guest.number("report_batches", 0));
    m.put("failed_batches", guest.number("failed_batches", 0));
    m.put("host_reports", hostCounter("reports"));
    m.put("refaulted_pages", hostCounter("refaults"));
    m.put("races_detected", hostCounter("races"));
    m.put("lost_writes", guest.number("lost_writes"));
    m.put("corrupt_pages", guest.number("corrupt_pages", 0));
    m.put("invariant_violations", guest.number("invariant_violations"));
    m.put("balloon_schedule", options.balloon().toString());
    m.put("balloon_steps_applied", balloonStepsApplied);
    m.put("hinting", options.hints().toString());
    m.put("hint_rounds_started", hintRoundsStarted);
    m.put("control_errors", controlErrors);
    m.put("wall_seconds", round1(wallSeconds));
    m.put("host_rss_samples", watch.samples());
    m.put("host_rss_series", series());
    m.put("guest_exit_code", guestExitCode);
    m.put("failure", problem.orElse(""));
    m.put("host_counters", watch.counters());
    m.put("guest", guest.fields());
    return m;
  }

  private List<Object> series() {
    List<Object> out = new ArrayList<>();
    for (GuestWatch.Sample s : watch.series()) {
      out.add(List.of(round1(s.seconds()), s.rssBytes()));
    }
    return out;
  }

  private static double round1(double v) {
    return Double.isNaN(v) ? v : Math.round(v * 10) / 10.0;
  }
}
