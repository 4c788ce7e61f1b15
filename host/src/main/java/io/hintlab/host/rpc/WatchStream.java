package io.hintlab.host.rpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.hintlab.host.device.ConfigSpace;
import io.hintlab.host.device.DeviceEvents;
import io.hintlab.proto.v1.ConfigEvent;

/**
 * A guest's open WatchConfig stream as the device's {@link DeviceEvents}: each event becomes one
 * ConfigEvent message. SHUTDOWN also completes the stream.
 *
 * <p><b>Note:</b> thread-safe; sends are synchronized because a stream observer is not.
 */
final class WatchStream implements DeviceEvents {
  private final ServerCallStreamObserver<ConfigEvent> out;
  private final Runnable onClose;
  private boolean done; // guarded by this

  /** {@code onClose} runs once, when the stream is cancelled or completed. */
  WatchStream(ServerCallStreamObserver<ConfigEvent> out, Runnable onClose) {
    this.out = out;
    this.onClose = onClose;
  }

  // Locking: called with this held; onClose only touches the session's atomics.
  private void finish() {
    if (!done) {
      done = true;
      onClose.run();
    }
  }

  private synchronized void send(ConfigEvent.Kind kind, ConfigSpace c, boolean complete) {
    if (done || out.isCancelled()) {
      return;
    }
    try {
      out.onNext(ConfigEvent.newBuilder()
          .setKind(kind)
          .setConfig(ProtoConverters.config(c))
          .setHostTimeNs(System.nanoTime())
          .build());
      if (complete) {
        finish();
        out.onCompleted();
      }
    } catch (RuntimeException e) {
      finish(); // the call was cancelled under us
    }
  }

  /** Marks the stream finished without sending (it was cancelled). */
  synchronized void markDone() {
    finish();
  }

  /** Completes the stream (replaced by a newer one). */
  synchronized void complete() {
    if (!done) {
      boolean cancelled = out.isCancelled();
      finish();
      if (!cancelled) {
        out.onCompleted();
      }
    }
  }

  @Override
  public void configChanged(ConfigSpace config) {
    send(ConfigEvent.Kind.CONFIG_CHANGED, config, false);
  }

  @Override
  public void pause(ConfigSpace config) {
    send(ConfigEvent.Kind.PAUSE, config, false);
  }

  @Override
  public void resume(ConfigSpace config) {
    send(ConfigEvent.Kind.RESUME, config, false);
  }

  @Override
  public void shutdown(ConfigSpace config) {
    send(ConfigEvent.Kind.SHUTDOWN, config, true);
  }
}
