package io.hintlab.guest.run;

import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.hintlab.guest.ram.GuestRam;
import io.hintlab.guest.transport.GuestChannel;
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
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A host for {@link GuestRun} tests, in process: the device's calls answered as the host answers
 * them, with the guest's RAM and dirty log as real files in a directory, mapped here too so that
 * a test reads them as the host does (stamps, fetch-and-clear of the dirty log). Config events are
 * pushed by the test; every call is counted; a Paused answer runs a hook before it is acknowledged
 * (the host's stop-and-copy); {@link #kill()} is the host dying.
 *
 * <p>Thread-safe; {@link #await} re-checks its condition after every call and event.
 */
final class FakeHost extends BalloonDeviceGrpc.BalloonDeviceImplBase implements AutoCloseable {
  static final long ALL_FEATURES = 0b111111; // MUST_TELL_HOST .. PAGE_REPORTING
  static final Duration WAIT = Duration.ofSeconds(30);
  private static final ValueLayout.OfLong LONG_LE =
      ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle WORD = LONG_LE.varHandle();

  final String name = InProcessServerBuilder.generateName();
  private final Path dir;
  private final Server server;
  private final Arena arena = Arena.ofShared();
  private final Object changes = new Object();
  private final List<ServerCallStreamObserver<ConfigEvent>> streams = new ArrayList<>();
  final List<PausedRequest> paused = new CopyOnWriteArrayList<>();
  final List<HintRequest> hints = new CopyOnWriteArrayList<>();
  final AtomicLong reports = new AtomicLong();
  final AtomicLong inflated = new AtomicLong();
  final AtomicLong statsCalls = new AtomicLong();
  final AtomicLong heartbeats = new AtomicLong();
  final AtomicLong watches = new AtomicLong();
  /** Heartbeats still to fail with UNAVAILABLE (a hiccup of the host's connection). */
  final AtomicLong failHeartbeats = new AtomicLong();
  final Set<Long> ballooned = new ConcurrentSkipListSet<>();
  volatile long features = ALL_FEATURES;
  volatile Consumer<PausedRequest> onPaused = r -> {};
  private volatile MemorySegment ram;
  private volatile MemorySegment log;
  private volatile long pages;
  private volatile int numPages;
  private volatile int cmdId;
  private volatile boolean detached;
  private volatile long driverFeatures;

  FakeHost(Path dir) throws IOException {
    this.dir = dir;
    this.server = InProcessServerBuilder.forName(name).addService(this).build().start();
  }

  /** A channel to this host, as {@link GuestRun} opens one. */
  GuestChannel channel() {
    return GuestChannel.wrap("in-process:" + name, InProcessChannelBuilder.forName(name).build());
  }

  // ---- scripting ----

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
        synchronized (s) {
          s.onNext(e);
        }
      }
    }
    changed();
  }

  /** A balloon target, then a config change. */
  void setTarget(int target) {
    numPages = target;
    push(ConfigEvent.Kind.CONFIG_CHANGED);
  }

  /** A free page hint command id, then a config change. */
  void setCmdId(int id) {
    cmdId = id;
    push(ConfigEvent.Kind.CONFIG_CHANGED);
  }

  /** The host dies: every call and stream fails, nothing answers any more. */
  void kill() throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    changed();
  }

  // ---- the guest's memory, as the host sees it ----

  /** Fetch-and-clears the dirty log (a migration's bitmap sync); the pages that were dirty. */
  long syncDirty() {
    MemorySegment l = log;
    long n = 0;
    for (long off = 0; off < l.byteSize(); off += 8) {
      n += Long.bitCount((long) WORD.getAndSet(l, off, 0L));
    }
    return n;
  }

  /** Pages whose dirty bit is set now, without clearing. */
  long dirtyPages() {
    MemorySegment l = log;
    long n = 0;
    for (long off = 0; off < l.byteSize(); off += 8) {
      n += Long.bitCount((long) WORD.getVolatile(l, off));
    }
    return n;
  }

  /** Whether the page's dirty bit is set. */
  boolean dirty(long pfn) {
    return ((long) WORD.getVolatile(log, (pfn >>> 6) << 3) & (1L << pfn)) != 0;
  }

  /** Whether page {@code pfn} holds a stamp of itself (GuestRam's layout, any owner). */
  boolean stamped(long pfn) {
    long base = pfn * 4096;
    long w0 = ram.get(LONG_LE, base);
    long w1 = ram.get(LONG_LE, base + 8);
    long w2 = ram.get(LONG_LE, base + 16);
    long w3 = ram.get(LONG_LE, base + 24);
    return w0 == pfn && (w1 >>> 32) == GuestRam.STAMP_MAGIC
        && w3 == GuestRam.checksum(w0, (int) w1, w2);
  }

  /** Whether the whole page reads as zeros. */
  boolean zero(long pfn) {
    MemorySegment page = ram.asSlice(pfn * 4096, 4096);
    for (long off = 0; off < 4096; off += 8) {
      if (page.get(LONG_LE, off) != 0) {
        return false;
      }
    }
    return true;
  }

  /** Fills page {@code pfn} with a non-zero pattern (old content the guest never wrote). */
  void scribble(long pfn) {
    ram.asSlice(pfn * 4096, 4096).fill((byte) 0x5A);
  }

  /** The guest's pages, once it attached. */
  long pages() {
    return pages;
  }

  boolean detached() {
    return detached;
  }

  /** The features the guest's driver accepted at attach. */
  long driverFeatures() {
    return driverFeatures;
  }

  /** The pfns set in a Paused answer's bitmap. */
  static List<Long> owned(PausedRequest r) {
    byte[] b = r.getOwnedBitmap().toByteArray();
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < b.length * 8; i++) {
      if ((b[i >>> 3] & (1 << (i & 7))) != 0) {
        out.add((long) i);
      }
    }
    return out;
  }

  /** Waits up to {@link #WAIT} for {@code cond}, re-checked after every call and event. */
  boolean await(BooleanSupplier cond) throws InterruptedException {
    long end = System.nanoTime() + WAIT.toNanos();
    synchronized (changes) {
      while (!cond.getAsBoolean()) {
        long left = end - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(changes, Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
      }
    }
    return true;
  }

  private void changed() {
    synchronized (changes) {
      changes.notifyAll();
    }
  }

  private BalloonConfig config() {
    return BalloonConfig.newBuilder().setNumPages(numPages).setFreePageHintCmdId(cmdId).build();
  }

  private static <T> void answer(StreamObserver<T> out, T value) {
    out.onNext(value);
    out.onCompleted();
  }

  // ---- the service ----

  @Override
  public void getDeviceInfo(GetDeviceInfoRequest req, StreamObserver<DeviceInfo> out) {
    answer(out, DeviceInfo.newBuilder().setDeviceFeatures(features).setReportingCapacity(32)
        .setBackingPageSize(4096).setHostMode("migrate").setMaxMemoryBytes(1L << 34).build());
  }

  @Override
  public void attach(AttachRequest req, StreamObserver<AttachResponse> out) {
    try {
      Path ramPath = dir.resolve("guest.ram");
      Path logPath = dir.resolve("guest.dirty");
      long n = req.getMemoryBytes() / req.getPageSize();
      ram = map(ramPath, req.getMemoryBytes());
      log = map(logPath, GuestRam.dirtyLogBytes(n));
      pages = n;
      driverFeatures = req.getDriverFeatures();
      answer(out, AttachResponse.newBuilder().setSessionToken("token-1")
          .setNegotiatedFeatures(req.getDriverFeatures()).setRamPath(ramPath.toString())
          .setDirtyLogPath(logPath.toString()).setConfig(config()).setReportingCapacity(32)
          .setLeaseMs(600).build());
    } catch (IOException e) {
      out.onError(e);
    }
    changed();
  }

  private MemorySegment map(Path p, long bytes) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.setLength(bytes);
    }
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      return ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
    }
  }

  @Override
  public void report(ReportRequest req, StreamObserver<ReportResponse> out) {
    reports.incrementAndGet();
    answer(out, ReportResponse.getDefaultInstance());
    changed();
  }

  @Override
  public void hint(HintRequest req, StreamObserver<HintResponse> out) {
    hints.add(req);
    answer(out, HintResponse.newBuilder().setHostCmdId(cmdId).build());
    changed();
  }

  @Override
  public void inflate(PfnArray req, StreamObserver<PfnAck> out) {
    inflated.addAndGet(req.getPfnsCount());
    ballooned.addAll(req.getPfnsList());
    answer(out, PfnAck.newBuilder().setProcessed(req.getPfnsCount()).build());
    changed();
  }

  @Override
  public void deflate(PfnArray req, StreamObserver<PfnAck> out) {
    ballooned.removeAll(req.getPfnsList());
    answer(out, PfnAck.newBuilder().setProcessed(req.getPfnsCount()).build());
    changed();
  }

  @Override
  public void stats(StatsRequest req, StreamObserver<StatsAck> out) {
    statsCalls.incrementAndGet();
    answer(out, StatsAck.getDefaultInstance());
    changed();
  }

  @Override
  public void watchConfig(WatchConfigRequest req, StreamObserver<ConfigEvent> out) {
    ServerCallStreamObserver<ConfigEvent> call = (ServerCallStreamObserver<ConfigEvent>) out;
    synchronized (streams) {
      streams.add(call);
    }
    watches.incrementAndGet();
    synchronized (call) {
      call.onNext(ConfigEvent.newBuilder().setKind(ConfigEvent.Kind.CONFIG_CHANGED)
          .setConfig(config()).setHostTimeNs(System.nanoTime()).build());
    }
    changed();
  }

  @Override
  public void paused(PausedRequest req, StreamObserver<PausedAck> out) {
    onPaused.accept(req); // the stop-and-copy, before the guest hears back
    paused.add(req);
    answer(out, PausedAck.getDefaultInstance());
    changed();
  }

  @Override
  public void heartbeat(HeartbeatRequest req, StreamObserver<HeartbeatAck> out) {
    if (failHeartbeats.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      out.onError(Status.UNAVAILABLE.withDescription("fake: hiccup").asRuntimeException());
    } else {
      heartbeats.incrementAndGet();
      answer(out, HeartbeatAck.getDefaultInstance());
    }
    changed();
  }

  @Override
  public void publishMemoryMap(GuestMemoryMap req, StreamObserver<PublishAck> out) {
    answer(out, PublishAck.getDefaultInstance());
  }

  @Override
  public void detach(DetachRequest req, StreamObserver<DetachAck> out) {
    detached = true;
    answer(out, DetachAck.getDefaultInstance());
    changed();
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    arena.close();
  }
}
