package io.hintlab.guest.transport;

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
import io.hintlab.proto.v1.GuestMemoryMap;
import io.hintlab.proto.v1.HeartbeatAck;
import io.hintlab.proto.v1.HeartbeatRequest;
import io.hintlab.proto.v1.HintRequest;
import io.hintlab.proto.v1.HintResponse;
import io.hintlab.proto.v1.PageRange;
import io.hintlab.proto.v1.PausedAck;
import io.hintlab.proto.v1.PausedRequest;
import io.hintlab.proto.v1.PfnAck;
import io.hintlab.proto.v1.PfnArray;
import io.hintlab.proto.v1.PublishAck;
import io.hintlab.proto.v1.ReportRequest;
import io.hintlab.proto.v1.ReportResponse;
import io.hintlab.proto.v1.StatsAck;
import io.hintlab.proto.v1.StatsRequest;
import io.hintlab.proto.v1.WatchConfigRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * A scriptable BalloonDevice for the guest's transport tests (the guest cannot use the host's
 * service). By default it answers every call the way the host would, with sessions and tokens;
 * a script can make any call fail with a status, hang past its deadline (never answer), and the
 * config streams can be pushed to, dropped or completed. Every request is recorded.
 *
 * <p>Thread-safe: calls arrive on gRPC threads, the test scripts and waits on its own.
 */
final class FakeBalloonDevice extends BalloonDeviceGrpc.BalloonDeviceImplBase {
  /** The device's calls. */
  enum Rpc {
    GET_DEVICE_INFO, ATTACH, REPORT, HINT, INFLATE, DEFLATE, STATS, WATCH_CONFIG, PAUSED,
    HEARTBEAT, PUBLISH_MEMORY_MAP, DETACH
  }

  /** What the fake does with one call. */
  record Action(Kind kind, Status status) {
    enum Kind { ACCEPT, FAIL, HANG }

    static Action accept() {
      return new Action(Kind.ACCEPT, Status.OK);
    }

    static Action fail(Status.Code code, String description) {
      return new Action(Kind.FAIL, Status.fromCode(code).withDescription(description));
    }

    static Action hang() {
      return new Action(Kind.HANG, Status.OK);
    }
  }

  static final long ALL_FEATURES = 0b111111; // bits 0..5

  private final Map<Rpc, ConcurrentLinkedDeque<Action>> script = new ConcurrentHashMap<>();
  private final Map<Rpc, Action> sticky = new ConcurrentHashMap<>();
  private final Map<Rpc, AtomicInteger> calls = new EnumMap<>(Rpc.class);
  private final Set<String> liveTokens = ConcurrentHashMap.newKeySet();
  private final AtomicInteger sessions = new AtomicInteger();
  private final AtomicInteger cancelled = new AtomicInteger();
  private final List<ServerCallStreamObserver<ConfigEvent>> streams = new ArrayList<>();

  final List<AttachRequest> attaches = new CopyOnWriteArrayList<>();
  final List<ReportRequest> reports = new CopyOnWriteArrayList<>();
  final List<HintRequest> hints = new CopyOnWriteArrayList<>();
  final List<String> tokens = new CopyOnWriteArrayList<>(); // every token-carrying call's token

  private volatile DeviceInfo info = DeviceInfo.newBuilder()
      .setDeviceFeatures(ALL_FEATURES)
      .setReportingCapacity(32)
      .setBackingPageSize(4096)
      .setHostMode("discard")
      .setMaxMemoryBytes(1L << 30)
      .build();
  private volatile int leaseMs = 10_000;
  private volatile UnaryOperator<AttachResponse> attachTamper = UnaryOperator.identity();
  private volatile BalloonConfig config = BalloonConfig.getDefaultInstance();

  FakeBalloonDevice() {
    for (Rpc r : Rpc.values()) {
      calls.put(r, new AtomicInteger());
    }
  }

  // ---- scripting ----

  /** Queues actions for the next calls of {@code rpc}; then the sticky action, else ACCEPT. */
  FakeBalloonDevice script(Rpc rpc, Action... actions) {
    script.computeIfAbsent(rpc, r -> new ConcurrentLinkedDeque<>()).addAll(List.of(actions));
    return this;
  }

  /** Every later call of {@code rpc} (once the queue is empty) gets {@code action}. */
  FakeBalloonDevice always(Rpc rpc, Action action) {
    sticky.put(rpc, action);
    return this;
  }

  /** Offers these features and this reporting capacity. */
  FakeBalloonDevice offer(long features, int capacity) {
    info = info.toBuilder().setDeviceFeatures(features).setReportingCapacity(capacity).build();
    return this;
  }

  FakeBalloonDevice lease(Duration d) {
    leaseMs = (int) d.toMillis();
    return this;
  }

  /** Changes the Attach answer (a broken host). */
  FakeBalloonDevice tamperAttach(UnaryOperator<AttachResponse> f) {
    attachTamper = f;
    return this;
  }

  /** The host forgets every session (lease expired, restart). */
  void expireSessions() {
    liveTokens.clear();
  }

  /** Sends one event to every open config stream. */
  void push(ConfigEvent.Kind kind, int numPages, int cmdId) {
    config = config.toBuilder().setNumPages(numPages).setFreePageHintCmdId(cmdId).build();
    ConfigEvent e = ConfigEvent.newBuilder().setKind(kind).setConfig(config)
        .setHostTimeNs(System.nanoTime()).build();
    forEachStream(s -> s.onNext(e));
  }

  /** Breaks every open config stream, as a dying host does. */
  void dropStreams() {
    forEachStream(s -> s.onError(Status.UNAVAILABLE.withDescription("fake: dropped")
        .asRuntimeException()));
    clearStreams();
  }

  /** Ends every open config stream normally. */
  void completeStreams() {
    forEachStream(StreamObserver::onCompleted);
    clearStreams();
  }

  private void forEachStream(Consumer<StreamObserver<ConfigEvent>> f) {
    List<ServerCallStreamObserver<ConfigEvent>> copy;
    synchronized (streams) {
      copy = new ArrayList<>(streams);
    }
    for (ServerCallStreamObserver<ConfigEvent> s : copy) {
      if (!s.isCancelled()) {
        f.accept(s);
      }
    }
  }

  private void clearStreams() {
    synchronized (streams) {
      streams.clear();
    }
  }

  int openStreams() {
    synchronized (streams) {
      return (int) streams.stream().filter(s -> !s.isCancelled()).count();
    }
  }

  // ---- observing ----

  int calls(Rpc rpc) {
    return calls.get(rpc).get();
  }

  /** Calls the client cancelled (deadline, interrupt, close) while the fake held them. */
  int cancelled() {
    return cancelled.get();
  }

  /** Waits until {@code rpc} was called at least {@code n} times; false on timeout. */
  boolean awaitCalls(Rpc rpc, int n, Duration timeout) throws InterruptedException {
    return await(() -> calls(rpc) >= n, timeout);
  }

  /** Waits until at least {@code n} held calls were cancelled; false on timeout. */
  boolean awaitCancelled(int n, Duration timeout) throws InterruptedException {
    return await(() -> cancelled() >= n, timeout);
  }

  private boolean await(Supplier<Boolean> done, Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    synchronized (this) {
      while (!done.get()) {
        long left = end - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        wait(Math.max(1, left / 1_000_000));
      }
      return true;
    }
  }

  private synchronized void changed() {
    notifyAll();
  }

  // ---- the service ----

  /**
   * Counts the call, then runs the scripted action: true means the caller answers normally;
   * false means it was failed or is being held.
   */
  private boolean admit(Rpc rpc, StreamObserver<?> out) {
    calls.get(rpc).incrementAndGet();
    changed();
    ConcurrentLinkedDeque<Action> q = script.get(rpc);
    Action a = q == null ? null : q.poll();
    if (a == null) {
      a = sticky.getOrDefault(rpc, Action.accept());
    }
    switch (a.kind()) {
      case FAIL -> {
        out.onError(a.status().asRuntimeException());
        return false;
      }
      case HANG -> {
        ((ServerCallStreamObserver<?>) out).setOnCancelHandler(() -> {
          cancelled.incrementAndGet();
          changed();
        });
        return false; // never answered
      }
      default -> {
        return true;
      }
    }
  }

  /** Checks a token like the host: unknown tokens get UNAUTHENTICATED. */
  private boolean authenticated(String token, StreamObserver<?> out) {
    tokens.add(token);
    if (!liveTokens.contains(token)) {
      out.onError(Status.UNAUTHENTICATED.withDescription("fake: unknown session token")
          .asRuntimeException());
      return false;
    }
    return true;
  }

  private static <T> void answer(StreamObserver<T> out, T value) {
    out.onNext(value);
    out.onCompleted();
  }

  @Override
  public void getDeviceInfo(GetDeviceInfoRequest req, StreamObserver<DeviceInfo> out) {
    if (admit(Rpc.GET_DEVICE_INFO, out)) {
      answer(out, info);
    }
  }

  @Override
  public void attach(AttachRequest req, StreamObserver<AttachResponse> out) {
    if (!admit(Rpc.ATTACH, out)) {
      return;
    }
    attaches.add(req);
    if ((req.getDriverFeatures() & ~info.getDeviceFeatures()) != 0) {
      out.onError(Status.INVALID_ARGUMENT.withDescription("fake: features not offered")
          .asRuntimeException());
      return;
    }
    int n = sessions.incrementAndGet();
    String token = "token-" + n;
    liveTokens.add(token);
    boolean poison = VirtioBalloon.has(req.getDriverFeatures(),
        VirtioBalloon.VIRTIO_BALLOON_F_PAGE_POISON);
    config = BalloonConfig.newBuilder()
        .setFreePageHintCmdId(VirtioBalloon.VIRTIO_BALLOON_CMD_ID_STOP)
        .setPoisonVal(poison ? req.getPoisonVal() : 0)
        .build();
    answer(out, attachTamper.apply(AttachResponse.newBuilder()
        .setSessionToken(token)
        .setNegotiatedFeatures(req.getDriverFeatures())
        .setRamPath("/dev/shm/fake/guest-" + n + ".ram")
        .setDirtyLogPath("/dev/shm/fake/guest-" + n + ".dirty")
        .setConfig(config)
        .setReportingCapacity(info.getReportingCapacity())
        .setReportingOrder(0)
        .setLeaseMs(leaseMs)
        .build()));
  }

  @Override
  public void report(ReportRequest req, StreamObserver<ReportResponse> out) {
    if (!admit(Rpc.REPORT, out) || !authenticated(req.getSessionToken(), out)) {
      return;
    }
    reports.add(req);
    long pages = 0;
    for (PageRange r : req.getRangesList()) {
      pages += 1L << r.getOrder();
    }
    answer(out, ReportResponse.newBuilder().setDiscardedPages(pages).build());
  }

  @Override
  public void hint(HintRequest req, StreamObserver<HintResponse> out) {
    if (!admit(Rpc.HINT, out) || !authenticated(req.getSessionToken(), out)) {
      return;
    }
    hints.add(req);
    answer(out, HintResponse.newBuilder().setHostCmdId(config.getFreePageHintCmdId())
        .setAppliedRanges(req.hasRanges() ? req.getRanges().getRangesCount() : 0).build());
  }

  @Override
  public void inflate(PfnArray req, StreamObserver<PfnAck> out) {
    if (admit(Rpc.INFLATE, out) && authenticated(req.getSessionToken(), out)) {
      answer(out, PfnAck.newBuilder().setProcessed(req.getPfnsCount()).build());
    }
  }

  @Override
  public void deflate(PfnArray req, StreamObserver<PfnAck> out) {
    if (admit(Rpc.DEFLATE, out) && authenticated(req.getSessionToken(), out)) {
      answer(out, PfnAck.newBuilder().setProcessed(req.getPfnsCount()).build());
    }
  }

  @Override
  public void stats(StatsRequest req, StreamObserver<StatsAck> out) {
    if (admit(Rpc.STATS, out) && authenticated(req.getSessionToken(), out)) {
      answer(out, StatsAck.getDefaultInstance());
    }
  }

  @Override
  public void watchConfig(WatchConfigRequest req, StreamObserver<ConfigEvent> out) {
    if (!admit(Rpc.WATCH_CONFIG, out) || !authenticated(req.getSessionToken(), out)) {
      return;
    }
    ServerCallStreamObserver<ConfigEvent> call = (ServerCallStreamObserver<ConfigEvent>) out;
    call.setOnCancelHandler(() -> {
      cancelled.incrementAndGet();
      changed();
    });
    synchronized (streams) {
      streams.add(call);
    }
    // The first event carries the current config (device.proto).
    out.onNext(ConfigEvent.newBuilder().setKind(ConfigEvent.Kind.CONFIG_CHANGED)
        .setConfig(config).setHostTimeNs(System.nanoTime()).build());
  }

  @Override
  public void paused(PausedRequest req, StreamObserver<PausedAck> out) {
    if (admit(Rpc.PAUSED, out) && authenticated(req.getSessionToken(), out)) {
      answer(out, PausedAck.getDefaultInstance());
    }
  }

  @Override
  public void heartbeat(HeartbeatRequest req, StreamObserver<HeartbeatAck> out) {
    if (admit(Rpc.HEARTBEAT, out) && authenticated(req.getSessionToken(), out)) {
      answer(out, HeartbeatAck.getDefaultInstance());
    }
  }

  @Override
  public void publishMemoryMap(GuestMemoryMap req, StreamObserver<PublishAck> out) {
    if (admit(Rpc.PUBLISH_MEMORY_MAP, out) && authenticated(req.getSessionToken(), out)) {
      answer(out, PublishAck.getDefaultInstance());
    }
  }

  @Override
  public void detach(DetachRequest req, StreamObserver<DetachAck> out) {
    if (admit(Rpc.DETACH, out) && authenticated(req.getSessionToken(), out)) {
      liveTokens.remove(req.getSessionToken());
      answer(out, DetachAck.getDefaultInstance());
    }
  }
}
