package io.hintlab.guest.transport;

import java.time.Duration;

/**
 * The deadline of each device call. Every call the guest makes has one: a host that stops
 * answering costs the guest at most this long per call, then the call fails with HOST_GONE.
 *
 * <p>Defaults ({@link #defaults()}) and why:
 *
 * <ul>
 *   <li>{@code attach} 10 s: the host creates and sizes two sparse files; milliseconds on tmpfs,
 *       but a loaded box or a slow disk should not make a first attach fail.
 *   <li>{@code report} 5 s: the host punches holes for up to 32 ranges (64 MiB at order 9), a few
 *       milliseconds; the batch's pages are neither free nor allocatable until the call returns
 *       (the Linux driver waits forever in {@code wait_event(vb->acked, ...)}), so the wait is
 *       bounded, but generously, so that a busy host is not mistaken for a dead one.
 *   <li>{@code unary} 2 s: everything else (GetDeviceInfo, Heartbeat, Hint, Inflate, Deflate,
 *       Stats, Paused, PublishMemoryMap, Detach) and the first event of WatchConfig, which the
 *       host sends at once. Well under the host's default 10 s lease, so a heartbeat that times
 *       out still leaves time for another before the session expires.
 * </ul>
 *
 * @param unary the deadline of the small calls and of WatchConfig's first event
 * @param attach the deadline of Attach
 * @param report the deadline of one Report batch
 */
public record CallDeadlines(Duration unary, Duration attach, Duration report) {

  /**
   * Checks that every deadline is positive.
   *
   * @throws IllegalArgumentException naming the bad deadline
   */
  public CallDeadlines {
    positive("unary", unary);
    positive("attach", attach);
    positive("report", report);
  }

  /**
   * The documented defaults: unary 2 s, attach 10 s, report 5 s.
   *
   * @return the defaults
   */
  public static CallDeadlines defaults() {
    return new CallDeadlines(Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofSeconds(5));
  }

  /**
   * One deadline for every call (tests, and hosts on the same box that must answer fast).
   *
   * @param d the deadline
   * @return the deadlines
   */
  public static CallDeadlines uniform(Duration d) {
    return new CallDeadlines(d, d, d);
  }

  private static void positive(String name, Duration d) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " deadline must be positive, was " + d);
    }
  }
}
