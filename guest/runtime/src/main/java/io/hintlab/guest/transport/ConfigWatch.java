package io.hintlab.guest.transport;

import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.hintlab.proto.v1.ConfigEvent;
import io.hintlab.proto.v1.WatchConfigRequest;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An open WatchConfig stream delivering the host's config changes to a {@link ConfigListener}.
 * Opened by {@link DeviceClient#watchConfig}, which returns only once the host's first event (the
 * current config) arrived.
 *
 * <p>The stream has no deadline of its own: it lasts as long as the session, and its staying open
 * is part of the guest's liveness signal to the host. What bounds it is the deadline on its first
 * event and, afterwards, the heartbeat's deadlines and the connection itself (a host that dies
 * closes its socket, and the listener hears HOST_GONE).
 *
 * <p><b>Note:</b> thread-safe; {@link #close()} is idempotent, cancels the call and silences the
 * listener.
 */
public final class ConfigWatch implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ConfigWatch.class);
  static final String RPC = "WatchConfig";

  private final ConfigListener listener;
  private final CountDownLatch firstOrEnd = new CountDownLatch(1);
  private final AtomicBoolean finished = new AtomicBoolean(); // a terminal callback ran, or closed
  private volatile boolean firstSeen;
  private volatile TransportException earlyEnd; // the stream ended before its first event
  private volatile ClientCallStreamObserver<WatchConfigRequest> call;

  ConfigWatch(ConfigListener listener) {
    this.listener = listener;
  }

  /** The observer to pass to the async stub. */
  ClientResponseObserver<WatchConfigRequest, ConfigEvent> observer() {
    return new ClientResponseObserver<>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<WatchConfigRequest> requestStream) {
        call = requestStream;
      }

      @Override
      public void onNext(ConfigEvent e) {
        if (!finished.get()) {
          ConfigUpdate.from(e).ifPresentOrElse(ConfigWatch.this::deliver,
              () -> LOG.warn("transport: config event of unknown kind {} ignored", e.getKind()));
        }
        firstSeen = true;
        firstOrEnd.countDown();
      }

      @Override
      public void onError(Throwable t) {
        TransportException failure = TransportException.fromCall(RPC, t);
        if (!firstSeen) {
          earlyEnd = failure;
          finished.set(true);
          firstOrEnd.countDown();
        } else if (finished.compareAndSet(false, true)) {
          try {
            listener.onFailed(failure);
          } catch (RuntimeException listenerBug) {
            LOG.warn("transport: config listener threw in onFailed", listenerBug);
          }
        }
      }

      @Override
      public void onCompleted() {
        if (!firstSeen) {
          earlyEnd = TransportException.local(TransportException.Reason.HOST_FAILED, RPC,
              "the host ended the stream before its first event");
          finished.set(true);
          firstOrEnd.countDown();
        } else if (finished.compareAndSet(false, true)) {
          try {
            listener.onCompleted();
          } catch (RuntimeException listenerBug) {
            LOG.warn("transport: config listener threw in onCompleted", listenerBug);
          }
        }
      }
    };
  }

  private void deliver(ConfigUpdate u) {
    try {
      listener.onUpdate(u);
    } catch (RuntimeException listenerBug) {
      LOG.warn("transport: config listener threw in onUpdate", listenerBug);
    }
  }

  /**
   * Waits for the first event. On timeout or an early end the stream is cancelled.
   *
   * @param deadline the longest wait
   * @throws TransportException HOST_GONE if nothing came in time, or how the stream ended
   */
  void awaitFirstEvent(Duration deadline) throws TransportException {
    boolean arrived;
    try {
      arrived = firstOrEnd.await(deadline.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close();
      throw TransportException.local(TransportException.Reason.CANCELLED, RPC,
          "interrupted while waiting for the first config event");
    }
    if (firstSeen) {
      return;
    }
    if (arrived) {
      throw earlyEnd;
    }
    close();
    throw TransportException.local(TransportException.Reason.HOST_GONE, RPC,
        "no config event within " + deadline.toMillis() + " ms");
  }

  /**
   * Whether the stream is still delivering events.
   *
   * @return false once the host ended it, it broke, or it was closed
   */
  public boolean open() {
    return !finished.get();
  }

  /** Cancels the stream; the listener hears nothing more. Idempotent. */
  @Override
  public void close() {
    if (finished.compareAndSet(false, true)) {
      ClientCallStreamObserver<WatchConfigRequest> c = call;
      if (c != null) {
        c.cancel("guest closed the config watch", null);
      }
    }
  }
}
