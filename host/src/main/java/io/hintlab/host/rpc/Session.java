package io.hintlab.host.rpc;

import io.hintlab.host.device.BalloonDevice;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One guest's session: the secret token, the public guest id, the device and the lease.
 *
 * <p><b>Note:</b> thread-safe (volatile and atomic fields).
 */
public final class Session {
  private final String token;
  private final BalloonDevice device;
  private final AtomicInteger openStreams = new AtomicInteger();
  private final AtomicBoolean dead = new AtomicBoolean();
  private final java.util.concurrent.atomic.AtomicReference<WatchStream> watch =
      new java.util.concurrent.atomic.AtomicReference<>();
  private volatile long lastSeenNanos = System.nanoTime();

  Session(String token, BalloonDevice device) {
    this.token = token;
    this.device = device;
  }

  /** The secret token (never shown by the control service). */
  String token() {
    return token;
  }

  /** The public id. */
  public String guestId() {
    return device.guestId();
  }

  /** The device. */
  public BalloonDevice device() {
    return device;
  }

  /** Makes {@code w} the session's event stream; returns the one it replaced, or null. */
  WatchStream replaceWatch(WatchStream w) {
    WatchStream old = watch.getAndSet(w);
    device.setEvents(w);
    return old;
  }

  /** Forgets {@code w} if it is still the current stream. */
  void clearWatch(WatchStream w) {
    if (watch.compareAndSet(w, null)) {
      device.setEvents(null);
    }
  }

  /** Records activity: a call or a stream event. */
  void touch() {
    lastSeenNanos = System.nanoTime();
  }

  void streamOpened() {
    openStreams.incrementAndGet();
    touch();
  }

  void streamClosed() {
    openStreams.decrementAndGet();
    touch(); // the lease runs from the moment the stream ended
  }

  /** Whether the lease ran out at {@code nowNanos}: no open stream and silence for the lease. */
  boolean expired(long nowNanos, long leaseNanos) {
    return openStreams.get() == 0 && nowNanos - lastSeenNanos > leaseNanos;
  }

  /** Marks the session dead; returns true the first time. */
  boolean kill() {
    return dead.compareAndSet(false, true);
  }

  /** Whether the session ended. */
  public boolean isDead() {
    return dead.get();
  }
}
