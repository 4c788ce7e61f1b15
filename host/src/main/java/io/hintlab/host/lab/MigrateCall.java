package io.hintlab.host.lab;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.hintlab.proto.v1.HostControlGrpc;
import io.hintlab.proto.v1.MigrateEvent;
import io.hintlab.proto.v1.MigrateRequest;
import io.hintlab.proto.v1.MigrationProgress;
import io.hintlab.proto.v1.MigrationReport;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One streaming {@code Migrate} call, followed from the caller's thread: its events arrive on
 * gRPC's threads into a queue, and the caller polls that queue every {@value #POLL_MS} ms, so it
 * also notices at once when the host or the guest process dies (the call's own failure would
 * come only later, e.g. when the guest's PAUSE answer times out). The call carries a deadline;
 * leaving early for any reason cancels it, which asks the host to stop the migration.
 */
final class MigrateCall {
  /** How often the caller looks at the queue and the processes. */
  static final int POLL_MS = 100;

  /** A stream event or the stream's end. */
  private sealed interface Item {}

  private record Event(MigrateEvent event) implements Item {}

  private record Failed(Throwable error) implements Item {}

  private record Completed() implements Item {}

  private final Channel channel;

  MigrateCall(Channel channel) {
    this.channel = channel;
  }

  /**
   * Migrates and waits for the report.
   *
   * @param req the request
   * @param deadline the call's deadline
   * @param progress called (on this thread) with each progress event
   * @param children the processes that must stay alive meanwhile, host first
   * @return the report
   * @throws IllegalStateException if a child dies (naming it, its log and last lines), the host
   *     answers with an error, the stream ends without a report, or the deadline passes
   */
  MigrationReport run(MigrateRequest req, Duration deadline, Consumer<MigrationProgress> progress,
      ChildProcess... children) throws InterruptedException {
    BlockingQueue<Item> queue = new LinkedBlockingQueue<>();
    Stream stream = new Stream(queue);
    HostControlGrpc.newStub(channel).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
        .migrate(req, stream);
    boolean done = false;
    try {
      MigrationReport report = follow(queue, progress, children);
      done = true;
      return report;
    } finally {
      if (!done) {
        stream.cancel();
      }
    }
  }

  private static MigrationReport follow(BlockingQueue<Item> queue,
      Consumer<MigrationProgress> progress, ChildProcess... children) throws InterruptedException {
    MigrationReport report = null;
    while (true) {
      Item item = queue.poll(POLL_MS, TimeUnit.MILLISECONDS);
      switch (item) {
        case null -> checkAlive(children);
        case Event(MigrateEvent e) when e.hasProgress() -> progress.accept(e.getProgress());
        case Event(MigrateEvent e) -> report = e.getReport();
        case Failed(Throwable t) -> {
          checkAlive(children); // a dead child explains the failure better than its status
          throw new IllegalStateException(failure(t, children), t);
        }
        case Completed() -> {
          if (report == null) {
            throw new IllegalStateException("the host's Migrate stream ended without a report");
          }
          return report;
        }
      }
    }
  }

  /** The status, then each child's log and last lines: what the host and guest said. */
  static String failure(Throwable t, ChildProcess... children) {
    StringBuilder sb = new StringBuilder("the host's Migrate failed: ")
        .append(Status.fromThrowable(t));
    for (ChildProcess c : children) {
      sb.append("\n").append(c.name()).append(' ').append(PairRun.describe(c));
    }
    return sb.toString();
  }

  private static void checkAlive(ChildProcess... children) {
    for (ChildProcess c : children) {
      c.checkAlive();
    }
  }

  /** Puts the stream's events into the queue; keeps the call so it can be cancelled. */
  private static final class Stream
      implements ClientResponseObserver<MigrateRequest, MigrateEvent> {
    private final BlockingQueue<Item> queue;
    private volatile ClientCallStreamObserver<MigrateRequest> call;

    Stream(BlockingQueue<Item> queue) {
      this.queue = queue;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<MigrateRequest> requestStream) {
      call = requestStream;
    }

    @Override
    public void onNext(MigrateEvent value) {
      queue.add(new Event(value));
    }

    @Override
    public void onError(Throwable t) {
      queue.add(new Failed(t));
    }

    @Override
    public void onCompleted() {
      queue.add(new Completed());
    }

    void cancel() {
      ClientCallStreamObserver<MigrateRequest> c = call;
      if (c != null) {
        c.cancel("hintlab migrate stopped following the migration", null);
      }
    }
  }
}
