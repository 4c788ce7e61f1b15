package io.hintlab.host.lab;

import io.hintlab.proto.v1.GuestStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * What the host showed of the pair's guest, sample by sample ({@code GetGuest}): its RAM file's
 * allocated bytes ({@code rss_bytes}: st_blocks x 512) over time, their peak, the value at the
 * end and the host's counters.
 *
 * <p><b>The end value.</b> The host frees a guest's RAM when it detaches, and a {@code GetGuest}
 * that races with the detach can read the closed file as 0 bytes. A sample is therefore counted
 * only once a <em>later</em> call has found the guest still attached: the host removes a session
 * from its registry before it closes the RAM, so that later success proves the earlier read saw
 * the open file. {@link #endBytes()} is the last such confirmed sample; the very last answer
 * before the guest vanished is never used for it.
 *
 * <p><b>Note:</b> not thread-safe; fed only from the pair's loop.
 */
public final class GuestWatch {

  /**
   * One sample.
   *
   * @param seconds seconds after the guest attached
   * @param rssBytes the RAM file's allocated bytes
   */
  public record Sample(double seconds, long rssBytes) {}

  private final List<Sample> series = new ArrayList<>();
  private Sample pending;
  private Sample confirmed;
  private long peakBytes;
  private Map<String, Long> counters = Map.of();
  private int samples;
  private boolean gone;

  /**
   * Records an answer of the host for the guest.
   *
   * @param seconds seconds after the guest attached
   * @param status the host's answer
   */
  public void sampled(double seconds, GuestStatus status) {
    if (gone) {
      throw new IllegalStateException("the guest was already seen gone");
    }
    samples++;
    if (pending != null) {
      confirm(pending);
    }
    pending = new Sample(seconds, status.getRssBytes());
    // The host's own peak covers the moments between samples (it also samples at each discard).
    peakBytes = Math.max(peakBytes, Math.max(status.getRssPeakBytes(), status.getRssBytes()));
    counters = new TreeMap<>(status.getCountersMap());
  }

  /** Records that the host no longer knows the guest (NOT_FOUND): it detached or was freed. */
  public void gone() {
    gone = true;
    pending = null;
  }

  private void confirm(Sample s) {
    confirmed = s;
    // one point per whole second is enough for a chart and keeps --json short
    if (!series.isEmpty() && (long) series.getLast().seconds() == (long) s.seconds()) {
      series.set(series.size() - 1, s);
    } else {
      series.add(s);
    }
  }

  /** Whether the host no longer knows the guest. */
  public boolean isGone() {
    return gone;
  }

  /** Answers recorded. */
  public int samples() {
    return samples;
  }

  /** The highest allocated bytes the host reported (its {@code rss_peak_bytes}), 0 if none. */
  public long peakBytes() {
    return peakBytes;
  }

  /** The last allocated bytes known to be read while the guest was attached, if any. */
  public OptionalLong endBytes() {
    return confirmed == null ? OptionalLong.empty() : OptionalLong.of(confirmed.rssBytes());
  }

  /** The most recent answer's allocated bytes, for the progress display (0 before any). */
  public long latestBytes() {
    return pending != null ? pending.rssBytes() : confirmed != null ? confirmed.rssBytes() : 0;
  }

  /** Confirmed samples, at most one per whole second (the last of that second). */
  public List<Sample> series() {
    return List.copyOf(series);
  }

  /** The host's counters for the guest in the most recent answer. */
  public Map<String, Long> counters() {
    return counters;
  }
}
