package io.hintlab.host.lab;

import java.io.PrintStream;
import java.time.Duration;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The pair's progress line on stderr: seconds of the run elapsed out of {@code --seconds}, the
 * elapsed time, and the host RSS of the guest's RAM file now. A no-op with {@code --no-progress}.
 */
public interface RssProgress extends AutoCloseable {

  /**
   * Shows the state at {@code seconds} after the guest attached.
   *
   * @param seconds elapsed seconds
   * @param rssBytes the RAM file's allocated bytes at the latest sample
   */
  void update(double seconds, long rssBytes);

  /** Ends the line (the library's refresh thread stops). */
  @Override
  void close();

  /** A display that shows nothing. */
  static RssProgress none() {
    return new RssProgress() {
      @Override
      public void update(double seconds, long rssBytes) {}

      @Override
      public void close() {}
    };
  }

  /**
   * A progress bar on {@code err}, {@code seconds} long.
   *
   * @param task the label, e.g. "pair"
   * @param seconds the run's length
   * @param elapsed time of the run already past when the bar appears
   * @param err where to draw (stderr, so stdout keeps the result alone)
   * @return the display
   */
  static RssProgress bar(String task, long seconds, Duration elapsed, PrintStream err) {
    ProgressBar bar = new ProgressBarBuilder()
        .setTaskName(task)
        .setInitialMax(seconds)
        .setUnit(" s", 1)
        .setStyle(ProgressBarStyle.ASCII)
        .setUpdateIntervalMillis(250)
        .startsFrom(0, elapsed)
        // the line is as wide as the terminal (asked through jline; 80 when it is no terminal)
        .setConsumer(new ConsoleProgressBarConsumer(err))
        .build();
    return new RssProgress() {
      @Override
      public void update(double elapsed, long rssBytes) {
        bar.stepTo(Math.min(seconds, (long) elapsed));
        bar.setExtraMessage(elapsed >= seconds
            ? "host RSS " + ByteSizes.human(rssBytes) + ", guest finishing"
            : "host RSS " + ByteSizes.human(rssBytes));
      }

      @Override
      public void close() {
        bar.close();
      }
    };
  }
}
