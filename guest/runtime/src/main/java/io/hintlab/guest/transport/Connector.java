package io.hintlab.guest.transport;

import io.hintlab.guest.transport.TransportException.Reason;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Establishes the guest's session and re-establishes it after a loss, following a {@link
 * ReconnectPolicy}.
 *
 * <p>After a failure that reconnecting can help with (HOST_GONE, SESSION_LOST), each attempt
 * waits its backoff, then:
 *
 * <ol>
 *   <li>if the old session may still live (the failure was HOST_GONE), sends a Heartbeat with
 *       the old token: if the host answers, the session is <b>resumed</b> (same token, same RAM,
 *       nothing lost; the lease had not run out);
 *   <li>if the host answers that it lost the session (UNAUTHENTICATED), attaches anew at once, in
 *       the same attempt: a <b>new session</b> with new, empty RAM, which the driver must map and
 *       start over on.
 * </ol>
 *
 * <p>Failures reconnecting cannot help with (REJECTED, NOT_NEGOTIATED, OVER_CAPACITY, HOST_FAILED,
 * CANCELLED) and the EXIT policy end at once; RECONNECT ends after {@code maxAttempts} attempts.
 * Either way the {@link TransportException} thrown has a message for people that says what
 * happened and why the guest stops, ready to print before exiting. Nothing loops without a
 * bound, and {@link #close()} stops a wait at once.
 *
 * <p>Before each attempt the channel's own reconnect backoff is reset, so gRPC's internal backoff
 * (up to two minutes) never stretches the policy's waits.
 *
 * <p><b>Note:</b> {@link #connect()} and {@link #reconnect} are called by the driver's one
 * control thread; {@link #close()} may come from any thread. A resumed session keeps its
 * heartbeat, but its config stream broke with the host: open a new watch either way.
 */
public final class Connector implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Connector.class);

  private final GuestChannel channel;
  private final AttachSpec spec;
  private final CallDeadlines deadlines;
  private final ReconnectPolicy policy;
  private final Sleeper sleeper;
  private final CountDownLatch stop = new CountDownLatch(1);
  private volatile boolean closed;
  private DeviceClient current; // guarded by this

  /**
   * The outcome of a reconnect.
   *
   * @param client the client to use from now on
   * @param resumed true if the old session lives on (same token and RAM); false if this is a new
   *     session with new, empty RAM
   * @param attempts the attempts it took, from 1 (each after its backoff)
   */
  public record Connection(DeviceClient client, boolean resumed, int attempts) {}

  /**
   * A connector whose waits end early when it is closed.
   *
   * @param channel the channel to the host; the caller keeps ownership
   * @param spec what to attach with
   * @param deadlines the deadlines of every call
   * @param policy reconnect or exit
   */
  public Connector(
      GuestChannel channel, AttachSpec spec, CallDeadlines deadlines, ReconnectPolicy policy) {
    this.channel = channel;
    this.spec = spec;
    this.deadlines = deadlines;
    this.policy = policy;
    this.sleeper = this::sleepUntilClosed;
  }

  /**
   * A connector with another sleeper (tests: a fake that records the waits).
   *
   * @param channel the channel to the host; the caller keeps ownership
   * @param spec what to attach with
   * @param deadlines the deadlines of every call
   * @param policy reconnect or exit
   * @param sleeper waits between attempts
   */
  public Connector(GuestChannel channel, AttachSpec spec, CallDeadlines deadlines,
      ReconnectPolicy policy, Sleeper sleeper) {
    this.channel = channel;
    this.spec = spec;
    this.deadlines = deadlines;
    this.policy = policy;
    this.sleeper = sleeper;
  }

  /**
   * The policy in force.
   *
   * @return the policy
   */
  public ReconnectPolicy policy() {
    return policy;
  }

  /**
   * The client of the current session.
   *
   * @return the client, or empty before connect and after close
   */
  public synchronized Optional<DeviceClient> client() {
    return Optional.ofNullable(current);
  }

  /**
   * Attaches for the first time: one attempt at once, then, if the host is not there yet, up to
   * {@code maxAttempts} more after their backoffs, as the policy says (EXIT: none).
   *
   * @return the attached client
   * @throws TransportException with a message for people if the guest should stop
   * @throws IllegalStateException if already connected
   */
  public synchronized DeviceClient connect() throws TransportException {
    if (current != null) {
      throw new IllegalStateException("already connected; use reconnect after a failure");
    }
    return establish(null, null).client();
  }

  /**
   * Re-establishes the session after {@code cause}, as the policy says.
   *
   * @param cause the failure the driver saw (a report, a heartbeat, the config stream)
   * @return the client to use from now on, and whether the old session was resumed
   * @throws TransportException with a message for people if the guest should stop
   * @throws IllegalStateException if never connected
   */
  public synchronized Connection reconnect(TransportException cause) throws TransportException {
    if (current == null) {
      throw new IllegalStateException("not connected; connect first");
    }
    LOG.warn("transport: lost the host at {}: {}", channel.target(), cause.getMessage());
    return establish(current, cause);
  }

  // Locking: called with this held; close() does not need it to stop a wait.
  private Connection establish(DeviceClient old, TransportException cause)
      throws TransportException {
    TransportException last = cause; // null on the first connect: try at once
    boolean resume = old != null && cause.reason() != Reason.SESSION_LOST;
    int attempts = 0;
    int retries = 0; // attempts after a failure, each after its backoff
    Duration waited = Duration.ZERO;
    while (true) {
      if (last != null) {
        giveUpUnlessRetryable(last, retries, waited);
        Duration d = policy.backoff(++retries);
        waitOrStop(d, last);
        waited = waited.plus(d);
      }
      if (closed) {
        throw closedWhile(last);
      }
      attempts++;
      channel.channel().resetConnectBackoff();
      if (resume) {
        try {
          old.heartbeat();
          LOG.info("transport: session resumed after {} attempt(s)", attempts);
          return new Connection(old, true, attempts);
        } catch (TransportException e) {
          if (e.reason() != Reason.SESSION_LOST) {
            last = e;
            continue;
          }
          // The host answers but forgot the session: attach now, in this attempt.
          resume = false;
          LOG.warn("transport: the host lost the session; attaching anew (new, empty RAM)");
        }
      }
      DeviceClient c = new DeviceClient(channel.channel(), deadlines);
      try {
        c.attach(spec);
      } catch (TransportException e) {
        c.close();
        last = e;
        continue;
      }
      if (old != null) {
        old.close();
      }
      current = c;
      return new Connection(c, false, attempts);
    }
  }

  private void giveUpUnlessRetryable(TransportException last, int retries, Duration waited)
      throws TransportException {
    String host = "host " + channel.target() + ": ";
    if (!last.reason().reconnects()) {
      throw last.withMessage(host + last.getMessage() + "; not retried: reconnecting does not"
          + " help when the call was " + last.reason().words());
    }
    if (policy.mode() == ReconnectPolicy.Mode.EXIT) {
      throw last.withMessage(host + last.getMessage() + "; exiting, as the reconnect policy is"
          + " exit");
    }
    if (retries >= policy.maxAttempts()) {
      throw last.withMessage(host + "gave up after " + retries + " reconnect attempt(s) and "
          + waited.toMillis() + " ms of backoff (" + policy + "); last failure: "
          + last.getMessage());
    }
  }

  private void waitOrStop(Duration d, TransportException last) throws TransportException {
    LOG.info("transport: reconnecting to {} in {} ms", channel.target(), d.toMillis());
    try {
      sleeper.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw TransportException.local(Reason.CANCELLED, last.rpc(),
          "interrupted while waiting to reconnect; last failure: " + last.getMessage());
    }
  }

  private TransportException closedWhile(TransportException last) {
    return TransportException.local(Reason.CANCELLED, last == null ? "Attach" : last.rpc(),
        "the connector was closed" + (last == null ? "" : "; last failure: " + last.getMessage()));
  }

  private void sleepUntilClosed(Duration d) throws InterruptedException {
    stop.await(d.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * Stops: wakes a reconnect wait (which then fails with CANCELLED), detaches the current
   * session (bounded by the unary deadline; a host already gone is only logged) and closes its
   * client. Does not close the channel. Idempotent.
   */
  @Override
  public void close() {
    closed = true;
    stop.countDown();
    DeviceClient c;
    synchronized (this) {
      c = current;
      current = null;
    }
    if (c != null) {
      try {
        c.detach();
      } catch (TransportException e) {
        LOG.info("transport: could not detach on close: {}", e.getMessage());
      }
      c.close();
    }
  }
}
