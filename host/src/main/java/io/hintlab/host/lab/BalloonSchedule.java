package io.hintlab.host.lab;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Balloon targets the pair sets with {@code SetBalloonTarget} at given times, counted from the
 * moment the guest attached: {@code SECONDS=SIZE} ({@code 10=256M}) or {@code SECONDS=PERCENT}
 * of the guest's memory ({@code 20=50%}); {@code 30=0} deflates completely.
 *
 * @param steps the steps, strictly increasing in time
 */
public record BalloonSchedule(List<Step> steps) {
  private static final Pattern STEP = Pattern.compile("(\\d{1,7})=(\\d{1,3})%|(\\d{1,7})=(.+)");

  /** The unit of {@code SetBalloonTargetRequest.num_pages}: 4 KiB pages, as in virtio. */
  public static final long BALLOON_PAGE_BYTES = 4096;

  /**
   * One target.
   *
   * @param atSeconds seconds after the guest attached
   * @param bytes the target in bytes, or -1 when {@code percent} is used
   * @param percent the target in percent of the guest's memory, or -1 when {@code bytes} is used
   */
  public record Step(long atSeconds, long bytes, int percent) {
    /**
     * The target in 4 KiB balloon pages for a guest of {@code memoryBytes}.
     *
     * @param memoryBytes the guest's memory
     * @return pages (rounded down)
     */
    public long pages(long memoryBytes) {
      long b = percent >= 0 ? memoryBytes * percent / 100 : bytes;
      return b / BALLOON_PAGE_BYTES;
    }

    @Override
    public String toString() {
      return atSeconds + "=" + (percent >= 0 ? percent + "%" : ByteSizes.exact(bytes));
    }
  }

  /** Copies the list. */
  public BalloonSchedule {
    steps = List.copyOf(steps);
  }

  /** No balloon changes. */
  public static BalloonSchedule none() {
    return new BalloonSchedule(List.of());
  }

  /**
   * The default for the {@code balloon} workload: a quarter of the memory at a quarter of the
   * run, half at half, and back to 0 at three quarters, so the workload is seen shrinking and
   * regrowing.
   *
   * @param seconds the run's length
   * @return the schedule
   */
  public static BalloonSchedule quarterHalfZero(long seconds) {
    long[] at = {seconds / 4, seconds / 2, seconds * 3 / 4};
    int[] pct = {25, 50, 0};
    List<Step> steps = new ArrayList<>();
    for (int i = 0; i < at.length; i++) {
      // a run too short for three distinct whole seconds keeps the steps that fit
      if (at[i] >= 1 && (steps.isEmpty() || at[i] > steps.getLast().atSeconds())) {
        steps.add(new Step(at[i], -1, pct[i]));
      }
    }
    return new BalloonSchedule(steps);
  }

  /**
   * Parses {@code --balloon-schedule} items.
   *
   * @param items one step each, e.g. {@code 10=256M}, {@code 20=50%}
   * @return the schedule
   * @throws IllegalArgumentException naming the option and the bad step
   */
  public static BalloonSchedule parse(List<String> items) {
    List<Step> steps = new ArrayList<>();
    for (String item : items) {
      steps.add(parseStep(item.strip()));
    }
    for (int i = 1; i < steps.size(); i++) {
      if (steps.get(i).atSeconds() <= steps.get(i - 1).atSeconds()) {
        throw new IllegalArgumentException("--balloon-schedule: times must increase, but "
            + steps.get(i) + " follows " + steps.get(i - 1));
      }
    }
    return new BalloonSchedule(steps);
  }

  private static Step parseStep(String item) {
    Matcher m = STEP.matcher(item);
    if (!m.matches()) {
      throw new IllegalArgumentException("--balloon-schedule: '" + item
          + "' is not SECONDS=SIZE or SECONDS=PERCENT% (e.g. 10=256M, 20=50%)");
    }
    if (m.group(1) != null) {
      int pct = Integer.parseInt(m.group(2));
      if (pct > 100) {
        throw new IllegalArgumentException("--balloon-schedule: '" + item
            + "': a percentage must be in [0, 100]");
      }
      return new Step(Long.parseLong(m.group(1)), -1, pct);
    }
    try {
      return new Step(Long.parseLong(m.group(3)), ByteSizes.parse(m.group(4)), -1);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--balloon-schedule: '" + item + "': "
          + e.getMessage(), e);
    }
  }

  /**
   * Checks the steps against the run.
   *
   * @param memoryBytes the guest's memory
   * @param seconds the run's length
   * @throws IllegalArgumentException naming the option and the step that does not fit
   */
  public void check(long memoryBytes, long seconds) {
    for (Step s : steps) {
      if (s.atSeconds() >= seconds) {
        throw new IllegalArgumentException("--balloon-schedule: step " + s
            + " is not before the end of the run (--seconds " + seconds + ")");
      }
      if (s.percent() < 0 && s.bytes() > memoryBytes) {
        throw new IllegalArgumentException("--balloon-schedule: step " + s
            + " is larger than the guest's memory (--memory " + ByteSizes.exact(memoryBytes)
            + ")");
      }
    }
  }

  @Override
  public String toString() {
    return steps.isEmpty() ? "none"
        : String.join(",", steps.stream().map(Step::toString).toList());
  }
}
