package io.hintlab.guest.driver;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.hintlab.proto.v1.AttachRequest;
import io.hintlab.proto.v1.AttachResponse;
import io.hintlab.proto.v1.BalloonConfig;
import io.hintlab.proto.v1.BalloonDeviceGrpc;
import io.hintlab.proto.v1.ConfigEvent;
import io.hintlab.proto.v1.DetachAck;
import io.hintlab.proto.v1.DetachRequest;
import io.hintlab.proto.v1.DeviceInfo;
import io.hintlab.proto.v1.GetDeviceInfoRequest;
import io.hintlab.proto.v1.HeartbeatAck;
import io.hintlab.proto.v1.HeartbeatRequest;
import io.hintlab.proto.v1.HintRequest;
import io.hintlab.proto.v1.HintResponse;
import io.hintlab.proto.v1.PausedAck;
import io.hintlab.proto.v1.PausedRequest;
import io.hintlab.proto.v1.PfnAck;
import io.hintlab.proto.v1.PfnArray;
import io.hintlab.proto.v1.StatsAck;
import io.hintlab.proto.v1.StatsRequest;
import io.hintlab.proto.v1.WatchConfigRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A scriptable virtio-balloon device for the driver's tests, in the manner of the transport tests'
 * fake: the balloon queues behave as the host's do (the ballooned set, actual derived from it, a
 * config event pushed after every inflate and deflate), every queue call is recorded in order, and
 * a script can fail or hang any call. Hooks run inside the inflate and deflate handlers, before
 * the answer, so a test can look at the guest while the host is being told. Paused answers and
 * heartbeats are recorded (the heartbeat is a clock that runs whatever the guest's vCPUs do).
 *
 * <p>Thread-safe; {@link #onChange} is run after every call and event (the fixture's condition).
 */
final class FakeDevice extends BalloonDeviceGrpc.BalloonDeviceImplBase {
  /** The queues scripts can act on. */
  enum Rpc { INFLATE, DEFLATE, STATS, HINT }

  /** One inflate or deflate buffer, in the order the device took them. */
  record Call(Rpc rpc, long[] pfns) {}

  static final long ALL_FEATURES = 0b111111; // MUST_TELL_HOST .. PAGE_REPORTING

  private final Map<Rpc, ConcurrentLinkedDeque<Status>> script = new ConcurrentHashMap<>();
  private final Map<Rpc, Status> sticky = new ConcurrentHashMap<>();
  private final List<ServerCallStreamObserver<ConfigEvent>> streams = new ArrayList<>();
  private final TreeSet<Long> ballooned = new TreeSet<>(); // guarded by itself
  private final Runnable onChange;
  final List<Call> calls = new CopyOnWriteArrayList<>();
  final List<StatsRequest> stats = new CopyOnWriteArrayList<>();
  final List<HintRequest> hints = new CopyOnWriteArrayList<>();
  final List<PausedRequest> paused = new CopyOnWriteArrayList<>();
  final AtomicLong heartbeats = new AtomicLong();
  volatile long features = ALL_FEATURES;
  volatile Consumer<long[]> onInflate = p -> {};
  volatile Consumer<long[]> onDeflate = p -> {};
  private volatile int numPages;
  private volatile int cmdId;

  FakeDevice(Runnable onChange) {
    this.onChange = onChange;
  }

  // ---- scripting ----

  /** The next calls of {@code rpc} fail with these codes, in order. */
  void failNext(Rpc rpc, Status.Code... codes) {
    for (Status.Code c : codes) {
      script.computeIfAbsent(rpc, r -> new ConcurrentLinkedDeque<>())
          .add(Status.fromCode(c).withDescription("fake: scripted failure"));
    }
  }

  /** Every later call of {@code rpc} fails with {@code code}; OK never answers (a hung host). */
  void failAlways(Rpc rpc, Status.Code code) {
    sticky.put(rpc, Status.fromCode(code).withDescription("fake: failing"));
  }

  /** SetBalloonTarget: num_pages, then a config change. */
  void setTarget(int pages) {
    numPages = pages;
    push(ConfigEvent.Kind.CONFIG_CHANGED);
  }

  /** A new free page hint command id, then a config change. */
  void setCmdId(int id) {
    cmdId = id;
    push(ConfigEvent.Kind.CONFIG_CHANGED);
  }

  /** Sends one event with the config now to every open stream. */
  void push(ConfigEvent.Kind kind) {
    ConfigEvent e = ConfigEvent.newBuilder().setKind(kind).setConfig(config())
        .setHostTimeNs(System.nanoTime()).build();
    List<ServerCallStreamObserver<ConfigEvent>> copy;
    synchronized (streams) {
      copy = new ArrayList<>(streams);
    }
    for (ServerCallStreamObserver<ConfigEvent> s : copy) {
      if (!s.isCancelled()) {
        s.onNext(e);
      }
    }
    onChange.run();
  }

  // ---- observing ----

  /** The pfns the device holds as ballooned. */
  TreeSet<Long> ballooned() {
    synchronized (ballooned) {
      return new TreeSet<>(ballooned);
    }
  }

  int balloonedCount() {
    synchronized (ballooned) {
      return ballooned.size();
    }
  }

  /** The buffers of one queue, in order. */
  List<long[]> buffers(Rpc rpc) {
    return calls.stream().filter(c -> c.rpc() == rpc).map(Call::pfns).toList();
  }

  int openStreams() {
    synchronized (streams) {
      return (int) streams.stream().filter(s -> !s.isCancelled()).count();
    }
  }

  private BalloonConfig config() {
    return BalloonConfig.newBuilder().setNumPages(numPages).setActual(balloonedCount())
        .setFreePageHintCmdId(cmdId).build();
  }

  // ---- the service ----

  /** Runs the script: true to answer normally. */
  private boolean admit(Rpc rpc, StreamObserver<?> out) {
    ConcurrentLinkedDeque<Status> q = script.get(rpc);
    Status s = q == null ? null : q.poll();
    if (s == null) {
      s = sticky.get(rpc);
    }
    if (s == null) {
      return true;
    }
    if (s.isOk()) {
      return false; // hang: the client's deadline ends the call
    }
    out.onError(s.asRuntimeException());
    onChange.run();
    return false;
  }

  private static <T> void answer(StreamObserver<T> out, T value) {
    out.onNext(value);
    out.onCompleted();
  }

  @Override
  public void getDeviceInfo(GetDeviceInfoRequest req, StreamObserver<DeviceInfo> out) {
    answer(out, DeviceInfo.newBuilder().setDeviceFeatures(features).setReportingCapacity(32)
        .setBackingPageSize(4096).setHostMode("discard").setMaxMemoryBytes(1L << 34).build());
  }

  @Override
  public void attach(AttachRequest req, StreamObserver<AttachResponse> out) {
    answer(out, AttachResponse.newBuilder().setSessionToken("token-1")
        .setNegotiatedFeatures(req.getDriverFeatures())
        .setRamPath("/dev/shm/fake/guest.ram").setDirtyLogPath("/dev/shm/fake/guest.dirty")
        .setConfig(config()).setReportingCapacity(32).setLeaseMs(10_000).build());
  }

  @Override
  public void inflate(PfnArray req, StreamObserver<PfnAck> out) {
    if (admit(Rpc.INFLATE, out)) {
      long[] pfns = req.getPfnsList().stream().mapToLong(Long::longValue).toArray();
      onInflate.accept(pfns);
      synchronized (ballooned) {
        for (long p : pfns) {
          ballooned.add(p);
        }
      }
      calls.add(new Call(Rpc.INFLATE, pfns));
      push(ConfigEvent.Kind.CONFIG_CHANGED); // as the host's BalloonDevice.inflate() does
      answer(out, PfnAck.newBuilder().setProcessed(pfns.length).build());
    }
  }

  @Override
  public void deflate(PfnArray req, StreamObserver<PfnAck> out) {
    if (admit(Rpc.DEFLATE, out)) {
      long[] pfns = req.getPfnsList().stream().mapToLong(Long::longValue).toArray();
      onDeflate.accept(pfns);
      synchronized (ballooned) {
        for (long p : pfns) {
          ballooned.remove(p);
        }
      }
      calls.add(new Call(Rpc.DEFLATE, pfns));
      push(ConfigEvent.Kind.CONFIG_CHANGED);
      answer(out, PfnAck.newBuilder().setProcessed(pfns.length).build());
    }
  }

  @Override
  public void stats(StatsRequest req, StreamObserver<StatsAck> out) {
    if (admit(Rpc.STATS, out)) {
      stats.add(req);
      answer(out, StatsAck.getDefaultInstance());
      onChange.run();
    }
  }

  @Override
  public void hint(HintRequest req, StreamObserver<HintResponse> out) {
    if (admit(Rpc.HINT, out)) {
      hints.add(req);
      answer(out, HintResponse.newBuilder().setHostCmdId(cmdId)
          .setAppliedRanges(req.hasRanges() ? req.getRanges().getRangesCount() : 0).build());
      onChange.run();
    }
  }

  @Override
  public void watchConfig(WatchConfigRequest req, StreamObserver<ConfigEvent> out) {
    ServerCallStreamObserver<ConfigEvent> call = (ServerCallStreamObserver<ConfigEvent>) out;
    synchronized (streams) {
      streams.add(call);
    }
    out.onNext(ConfigEvent.newBuilder().setKind(ConfigEvent.Kind.CONFIG_CHANGED)
        .setConfig(config()).setHostTimeNs(System.nanoTime()).build());
    onChange.run();
  }

  @Override
  public void paused(PausedRequest req, StreamObserver<PausedAck> out) {
    paused.add(req);
    answer(out, PausedAck.getDefaultInstance());
    onChange.run();
  }

  @Override
  public void heartbeat(HeartbeatRequest req, StreamObserver<HeartbeatAck> out) {
    heartbeats.incrementAndGet();
    answer(out, HeartbeatAck.getDefaultInstance());
    onChange.run();
  }

  @Override
  public void detach(DetachRequest req, StreamObserver<DetachAck> out) {
    answer(out, DetachAck.getDefaultInstance());
  }
}
