package io.hintlab.guest.transport;

import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_ARRAY_PFNS_MAX;
import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_FREE_PAGE_HINT;
import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_PAGE_REPORTING;
import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_STATS_VQ;

import com.google.protobuf.ByteString;
import io.grpc.Channel;
import io.grpc.StatusRuntimeException;
import io.hintlab.guest.reporting.ReportException;
import io.hintlab.guest.reporting.ReportSink;
import io.hintlab.guest.transport.TransportException.Reason;
import io.hintlab.proto.v1.AttachRequest;
import io.hintlab.proto.v1.AttachResponse;
import io.hintlab.proto.v1.BalloonDeviceGrpc;
import io.hintlab.proto.v1.DetachRequest;
import io.hintlab.proto.v1.GetDeviceInfoRequest;
import io.hintlab.proto.v1.GuestMemoryMap;
import io.hintlab.proto.v1.HeartbeatRequest;
import io.hintlab.proto.v1.HintRanges;
import io.hintlab.proto.v1.HintRequest;
import io.hintlab.proto.v1.HintResponse;
import io.hintlab.proto.v1.PageRange;
import io.hintlab.proto.v1.PausedRequest;
import io.hintlab.proto.v1.PfnArray;
import io.hintlab.proto.v1.ReportRequest;
import io.hintlab.proto.v1.ReportResponse;
import io.hintlab.proto.v1.Stat;
import io.hintlab.proto.v1.StatsRequest;
import io.hintlab.proto.v1.WatchConfigRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The guest's side of the BalloonDevice protocol on one {@link Channel}: attach (negotiation
 * included), the reporting queue, the other virtqueues, the heartbeat, the config stream, detach.
 *
 * <p>Every call carries a deadline from {@link CallDeadlines} and the session token, and every
 * failure is a {@link TransportException} whose {@link TransportException.Reason} comes from the
 * one status mapping in {@link TransportException.Reason#of}. Programmer errors (a call before
 * attach, arrays shorter than {@code n}, more entries than the queue holds) are {@link
 * IllegalStateException} and {@link IllegalArgumentException}. A call that needs a feature the
 * session did not negotiate fails locally with NOT_NEGOTIATED, without a round trip.
 *
 * <p>As the reporting strategies' {@link ReportSink}, {@link #report(long[], int[], int)} is the
 * driver's
 * {@code virtballoon_free_page_report()}: it returns once the host acknowledged the batch and
 * throws {@link ReportException}, caused by the {@link TransportException}, for anything else.
 *
 * <p>The client takes a channel and does not own it (grpc-java's RouteGuideClient style): the
 * caller builds it ({@link GuestChannel}, or an in-process channel in tests) and closes it.
 *
 * <p><b>Note:</b> thread-safe. The reporting thread, the driver and the heartbeat thread may call
 * concurrently; gRPC stubs are thread-safe and the session is published through a volatile field.
 * One session per client: attach again only after detach.
 */
public final class DeviceClient implements ReportSink, AutoCloseable {
  /** Most hinted ranges per Hint call: the free page virtqueue's size (QEMU VIRTQUEUE_MAX_SIZE). */
  public static final int MAX_HINT_RANGES = 1024;

  /** The shortest heartbeat interval {@link #startHeartbeat(Consumer)} derives from a lease. */
  static final Duration MIN_HEARTBEAT_INTERVAL = Duration.ofMillis(10);

  private static final Logger LOG = LoggerFactory.getLogger(DeviceClient.class);

  private final BalloonDeviceGrpc.BalloonDeviceBlockingStub stub;
  private final BalloonDeviceGrpc.BalloonDeviceStub asyncStub;
  private final CallDeadlines deadlines;
  private final Object lock = new Object();
  private volatile DeviceSession session;
  private volatile boolean closed;
  private Heartbeat heartbeat; // guarded by lock
  private ConfigWatch watch; // guarded by lock

  /**
   * A client with the default deadlines ({@link CallDeadlines#defaults()}).
   *
   * @param channel the channel to the host; the caller keeps ownership
   */
  public DeviceClient(Channel channel) {
    this(channel, CallDeadlines.defaults());
  }

  /**
   * A client with the given deadlines.
   *
   * @param channel the channel to the host; the caller keeps ownership
   * @param deadlines the deadline of each call
   */
  public DeviceClient(Channel channel, CallDeadlines deadlines) {
    this.stub = BalloonDeviceGrpc.newBlockingStub(channel);
    this.asyncStub = BalloonDeviceGrpc.newStub(channel);
    this.deadlines = deadlines;
  }

  /**
   * The deadlines this client puts on its calls.
   *
   * @return the deadlines
   */
  public CallDeadlines deadlines() {
    return deadlines;
  }

  /**
   * The attached session.
   *
   * @return the session, or empty before attach and after detach
   */
  public Optional<DeviceSession> session() {
    return Optional.ofNullable(session);
  }

  /**
   * Reads what the device offers (GetDeviceInfo; no token needed).
   *
   * @return the offer
   * @throws TransportException if the call failed
   */
  public DeviceOffer deviceInfo() throws TransportException {
    return DeviceOffer.from(call("GetDeviceInfo", deadlines.unary(),
        s -> s.getDeviceInfo(GetDeviceInfoRequest.getDefaultInstance())));
  }

  /**
   * Attaches: reads the offer, negotiates with {@link FeatureNegotiation} and opens a session.
   *
   * @param spec what the guest asks for
   * @return the session, also kept by this client for later calls
   * @throws TransportException if a call failed, the probe refused the device (NOT_NEGOTIATED),
   *     or the host's answer breaks the protocol (HOST_FAILED)
   * @throws IllegalStateException if this client already has a session
   */
  public DeviceSession attach(AttachSpec spec) throws TransportException {
    if (session != null) {
      throw new IllegalStateException("already attached; detach first");
    }
    DeviceOffer offer = deviceInfo();
    NegotiatedFeatures nf = FeatureNegotiation.negotiate(offer, spec.wishes());
    AttachRequest req = AttachRequest.newBuilder()
        .setGuestName(spec.guestName())
        .setMemoryBytes(spec.memoryBytes())
        .setPageSize(spec.pageSize())
        .setDriverFeatures(nf.accepted())
        .setPoisonVal(nf.poisonVal())
        .setPid(ProcessHandle.current().pid())
        .setMaxOrder(spec.maxOrder())
        .build();
    AttachResponse r = call("Attach", deadlines.attach(), s -> s.attach(req));
    DeviceSession s;
    try {
      s = sessionFrom(r, spec, nf);
    } catch (TransportException e) {
      bestEffortDetach(r.getSessionToken());
      throw e;
    }
    synchronized (lock) {
      if (session != null) {
        bestEffortDetach(s.token());
        throw new IllegalStateException("attached concurrently; detach first");
      }
      session = s;
    }
    LOG.info("transport: attached {} ({} bytes), {}, reporting capacity {} order {}, lease {} ms",
        spec.guestName(), spec.memoryBytes(), nf, s.reportingCapacity(), s.reportingOrder(),
        s.lease().toMillis());
    return s;
  }

  /** Checks the host's Attach answer; anything missing is a broken host. */
  private static DeviceSession sessionFrom(
      AttachResponse r, AttachSpec spec, NegotiatedFeatures nf) throws TransportException {
    String broken = null;
    if (r.getSessionToken().isEmpty()) {
      broken = "no session token";
    } else if (r.getNegotiatedFeatures() != nf.accepted()) {
      broken = "negotiated features " + VirtioBalloon.names(r.getNegotiatedFeatures())
          + " but the driver accepted " + VirtioBalloon.names(nf.accepted());
    } else if (r.getRamPath().isEmpty() || r.getDirtyLogPath().isEmpty()) {
      broken = "no RAM or dirty-log path";
    } else if (nf.has(VIRTIO_BALLOON_F_PAGE_REPORTING) && r.getReportingCapacity() < 1) {
      broken = "reporting capacity " + r.getReportingCapacity();
    } else if (r.getLeaseMs() <= 0) {
      broken = "lease " + r.getLeaseMs() + " ms";
    }
    if (broken != null) {
      throw TransportException.local(Reason.HOST_FAILED, "Attach", "the host answered " + broken);
    }
    return new DeviceSession(r.getSessionToken(), nf, Path.of(r.getRamPath()),
        Path.of(r.getDirtyLogPath()), ConfigSpace.from(r.getConfig()), r.getReportingCapacity(),
        r.getReportingOrder(), spec.pageSize(), spec.memoryBytes(),
        Duration.ofMillis(r.getLeaseMs()));
  }

  private void bestEffortDetach(String token) {
    if (token.isEmpty()) {
      return;
    }
    try {
      call("Detach", deadlines.unary(),
          st -> st.detach(DetachRequest.newBuilder().setSessionToken(token).build()));
    } catch (TransportException e) {
      LOG.debug("transport: detach after a failed attach: {}", e.getMessage());
    }
  }

  /**
   * Reports one batch on the reporting queue and blocks until the host acknowledged it (the used
   * buffer), or the report deadline passed. The pages must not be touched before this returns;
   * if it throws, the batch counts as not reported (see {@link TransportException}).
   *
   * @param pfns the first pfn of each block, entries {@code [0, n)}
   * @param orders the order of each block, entries {@code [0, n)}
   * @param n the number of blocks, in [1, the session's reporting capacity]
   * @return what the host did with the batch
   * @throws TransportException if the host did not acknowledge the batch
   * @throws IllegalStateException if there is no session
   * @throws IllegalArgumentException if {@code n} or the array lengths are wrong
   */
  public ReportAck reportBatch(long[] pfns, int[] orders, int n) throws TransportException {
    return send(requireSession("Report"), pfns, orders, n);
  }

  /**
   * The {@link ReportSink} side of {@link #reportBatch}: reports one batch and waits for the
   * host's acknowledgement. A missing session (not attached yet, detached, or being re-established
   * after a loss) is a failed batch here, not a programmer error: the reporting thread may run
   * into it while the driver reconnects.
   *
   * @param pfns the first pfn of each block, entries {@code [0, n)}
   * @param orders the order of each block, entries {@code [0, n)}
   * @param n the number of blocks, in [1, the session's reporting capacity]
   * @throws ReportException if the batch was not acknowledged; its cause is the {@link
   *     TransportException} with the reason (HOST_GONE, SESSION_LOST, ...)
   */
  @Override
  public void report(long[] pfns, int[] orders, int n) throws ReportException {
    DeviceSession s = session;
    try {
      if (s == null) {
        throw TransportException.local(Reason.SESSION_LOST, "Report",
            "no session: not attached yet, detached, or being re-established");
      }
      send(s, pfns, orders, n);
    } catch (TransportException e) {
      throw new ReportException(e.getMessage(), e);
    }
  }

  private ReportAck send(DeviceSession s, long[] pfns, int[] orders, int n)
      throws TransportException {
    checkEntries(pfns, orders, n, s.reportingCapacity());
    requireFeature(s, VIRTIO_BALLOON_F_PAGE_REPORTING, "Report");
    ReportRequest.Builder b = ReportRequest.newBuilder().setSessionToken(s.token());
    for (int i = 0; i < n; i++) {
      b.addRanges(PageRange.newBuilder().setPfn(pfns[i]).setOrder(orders[i]));
    }
    ReportRequest req = b.build();
    ReportResponse r = call("Report", deadlines.report(), st -> st.report(req));
    return new ReportAck(
        r.getDiscardedPages(), r.getIgnoredRanges(), r.getAlreadyDiscardedPages());
  }

  /**
   * Opens a free page hinting round: the start outbuf with the current command id.
   *
   * @param cmdId the command id read from the config space
   * @return the device's answer
   * @throws TransportException if the call failed
   */
  public HintAck hintStart(int cmdId) throws TransportException {
    DeviceSession s = requireSession("Hint");
    requireFeature(s, VIRTIO_BALLOON_F_FREE_PAGE_HINT, "Hint");
    return hint(HintRequest.newBuilder().setSessionToken(s.token()).setStartCmdId(cmdId).build());
  }

  /**
   * Hints free blocks under a round's command id.
   *
   * @param cmdId the id the round was started with
   * @param pfns the first pfn of each block, entries {@code [0, n)}
   * @param orders the order of each block, entries {@code [0, n)}
   * @param n the number of blocks, in [1, {@value #MAX_HINT_RANGES}]
   * @return the device's answer
   * @throws TransportException if the call failed
   */
  public HintAck hintRanges(int cmdId, long[] pfns, int[] orders, int n)
      throws TransportException {
    DeviceSession s = requireSession("Hint");
    checkEntries(pfns, orders, n, MAX_HINT_RANGES);
    requireFeature(s, VIRTIO_BALLOON_F_FREE_PAGE_HINT, "Hint");
    HintRanges.Builder r = HintRanges.newBuilder().setCmdId(cmdId);
    for (int i = 0; i < n; i++) {
      r.addRanges(PageRange.newBuilder().setPfn(pfns[i]).setOrder(orders[i]));
    }
    return hint(HintRequest.newBuilder().setSessionToken(s.token()).setRanges(r).build());
  }

  /**
   * Ends the driver's part of a hinting round: the STOP outbuf.
   *
   * @return the device's answer
   * @throws TransportException if the call failed
   */
  public HintAck hintStop() throws TransportException {
    DeviceSession s = requireSession("Hint");
    requireFeature(s, VIRTIO_BALLOON_F_FREE_PAGE_HINT, "Hint");
    return hint(HintRequest.newBuilder().setSessionToken(s.token()).setStop(true).build());
  }

  private HintAck hint(HintRequest req) throws TransportException {
    HintResponse r = call("Hint", deadlines.unary(), st -> st.hint(req));
    return new HintAck(r.getHostCmdId(), r.getAppliedRanges(), r.getIgnoredRanges());
  }

  /**
   * Gives 4 KiB pages to the host (the inflate queue).
   *
   * @param pfns 4 KiB pfns, entries {@code [0, n)}
   * @param n how many, in [1, {@value VirtioBalloon#VIRTIO_BALLOON_ARRAY_PFNS_MAX}]
   * @return pages the device processed
   * @throws TransportException if the call failed
   */
  public int inflate(long[] pfns, int n) throws TransportException {
    DeviceSession s = requireSession("Inflate");
    PfnArray req = pfnArray(s, pfns, n);
    return call("Inflate", deadlines.unary(), st -> st.inflate(req)).getProcessed();
  }

  /**
   * Takes 4 KiB pages back from the host (the deflate queue).
   *
   * @param pfns 4 KiB pfns, entries {@code [0, n)}
   * @param n how many, in [1, {@value VirtioBalloon#VIRTIO_BALLOON_ARRAY_PFNS_MAX}]
   * @return pages the device processed
   * @throws TransportException if the call failed
   */
  public int deflate(long[] pfns, int n) throws TransportException {
    DeviceSession s = requireSession("Deflate");
    PfnArray req = pfnArray(s, pfns, n);
    return call("Deflate", deadlines.unary(), st -> st.deflate(req)).getProcessed();
  }

  private static PfnArray pfnArray(DeviceSession s, long[] pfns, int n) {
    if (n < 1 || n > VIRTIO_BALLOON_ARRAY_PFNS_MAX || pfns.length < n) {
      throw new IllegalArgumentException("n must be in [1, " + VIRTIO_BALLOON_ARRAY_PFNS_MAX
          + "] and at most pfns.length " + pfns.length + ", was " + n);
    }
    PfnArray.Builder b = PfnArray.newBuilder().setSessionToken(s.token());
    for (int i = 0; i < n; i++) {
      b.addPfns(pfns[i]);
    }
    return b.build();
  }

  /**
   * Sends one stats buffer (virtio stats tags and values).
   *
   * @param tags the VIRTIO_BALLOON_S_* tags, entries {@code [0, n)}
   * @param values the values, entries {@code [0, n)}
   * @param n how many pairs, at least 1
   * @throws TransportException if the call failed
   */
  public void stats(int[] tags, long[] values, int n) throws TransportException {
    DeviceSession s = requireSession("Stats");
    if (n < 1 || tags.length < n || values.length < n) {
      throw new IllegalArgumentException("n must be at least 1 and at most tags.length "
          + tags.length + " and values.length " + values.length + ", was " + n);
    }
    requireFeature(s, VIRTIO_BALLOON_F_STATS_VQ, "Stats");
    StatsRequest.Builder b = StatsRequest.newBuilder().setSessionToken(s.token());
    for (int i = 0; i < n; i++) {
      b.addStats(Stat.newBuilder().setTag(tags[i]).setValue(values[i]));
    }
    StatsRequest req = b.build();
    call("Stats", deadlines.unary(), st -> st.stats(req));
  }

  /**
   * Answers a PAUSE: the vCPUs are stopped; lists the pages holding the guest's data.
   *
   * @param ownedBitmap one bit per pfn (bit pfn &amp; 63 of little-endian word pfn &gt;&gt; 6)
   * @param lostWrites lost writes counted so far
   * @throws TransportException if the call failed
   */
  public void paused(byte[] ownedBitmap, long lostWrites) throws TransportException {
    DeviceSession s = requireSession("Paused");
    PausedRequest req = PausedRequest.newBuilder().setSessionToken(s.token())
        .setOwnedBitmap(ByteString.copyFrom(ownedBitmap)).setLostWrites(lostWrites).build();
    call("Paused", deadlines.unary(), st -> st.paused(req));
  }

  /**
   * Publishes the guest's view of its memory, one PageblockState byte per pageblock.
   *
   * @param pageblockStates one {@code PageblockState} value per pageblock, pageblock 0 first
   * @param counters guest-side counters by name
   * @throws TransportException if the call failed
   */
  public void publishMemoryMap(byte[] pageblockStates, Map<String, Long> counters)
      throws TransportException {
    DeviceSession s = requireSession("PublishMemoryMap");
    GuestMemoryMap req = GuestMemoryMap.newBuilder().setSessionToken(s.token())
        .setPageblockStates(ByteString.copyFrom(pageblockStates)).putAllCounters(counters)
        .build();
    call("PublishMemoryMap", deadlines.unary(), st -> st.publishMemoryMap(req));
  }

  /**
   * One Heartbeat call: renews the session's lease.
   *
   * @throws TransportException if the call failed (SESSION_LOST: the lease already ran out)
   */
  public void heartbeat() throws TransportException {
    DeviceSession s = requireSession("Heartbeat");
    HeartbeatRequest req = HeartbeatRequest.newBuilder().setSessionToken(s.token()).build();
    call("Heartbeat", deadlines.unary(), st -> st.heartbeat(req));
  }

  /**
   * Starts heartbeats every third of the session's lease (so two may fail before the lease runs
   * out), at least every {@code 10 ms}. Replaces a heartbeat this client started before.
   *
   * @param onFailure told about each failed beat, on the heartbeat thread
   * @return the running heartbeat; {@link #close()} and {@link #detach()} stop it too
   */
  public Heartbeat startHeartbeat(Consumer<TransportException> onFailure) {
    Duration third = requireSession("Heartbeat").lease().dividedBy(3);
    return startHeartbeat(
        third.compareTo(MIN_HEARTBEAT_INTERVAL) < 0 ? MIN_HEARTBEAT_INTERVAL : third, onFailure);
  }

  /**
   * Starts heartbeats every {@code interval}. Replaces a heartbeat this client started before.
   *
   * @param interval the delay between one beat's end and the next beat's start
   * @param onFailure told about each failed beat, on the heartbeat thread
   * @return the running heartbeat; {@link #close()} and {@link #detach()} stop it too
   */
  public Heartbeat startHeartbeat(Duration interval, Consumer<TransportException> onFailure) {
    requireSession("Heartbeat");
    Heartbeat h = Heartbeat.start(interval, this::heartbeat, onFailure);
    Heartbeat old;
    synchronized (lock) {
      if (closed) {
        h.close();
        throw new IllegalStateException("client closed");
      }
      old = heartbeat;
      heartbeat = h;
    }
    if (old != null) {
      old.close();
    }
    return h;
  }

  /**
   * Opens the config stream and returns once its first event (the current config) reached the
   * listener. Replaces a watch this client opened before.
   *
   * @param listener receives the events, then how the stream ended
   * @return the open watch; {@link #close()} and {@link #detach()} close it too
   * @throws TransportException HOST_GONE if no first event came within the unary deadline, or
   *     how the stream ended before it
   */
  public ConfigWatch watchConfig(ConfigListener listener) throws TransportException {
    DeviceSession s = requireSession(ConfigWatch.RPC);
    ConfigWatch w = new ConfigWatch(listener);
    ConfigWatch old;
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("client closed");
      }
      old = watch;
      watch = w;
    }
    if (old != null) {
      old.close();
    }
    // No deadline on the stream itself: it lasts the session (see ConfigWatch).
    asyncStub.watchConfig(
        WatchConfigRequest.newBuilder().setSessionToken(s.token()).build(), w.observer());
    w.awaitFirstEvent(deadlines.unary());
    return w;
  }

  /**
   * Ends the session: stops the heartbeat and the config stream, then Detach. Afterwards the
   * client has no session whatever the outcome; a session the host had already lost counts as
   * detached. Does nothing without a session.
   *
   * @throws TransportException if the host could not be told (it frees the session when the lease
   *     runs out)
   */
  public void detach() throws TransportException {
    DeviceSession s = session;
    if (s == null) {
      return;
    }
    stopBackground();
    try {
      call("Detach", deadlines.unary(),
          st -> st.detach(DetachRequest.newBuilder().setSessionToken(s.token()).build()));
      LOG.info("transport: detached");
    } catch (TransportException e) {
      if (e.reason() != Reason.SESSION_LOST) {
        throw e;
      }
    } finally {
      session = null;
    }
  }

  /**
   * Stops the heartbeat and the config stream and refuses further calls (CANCELLED). Does not
   * detach (call {@link #detach()} first for a clean exit) and does not close the channel.
   * Idempotent and bounded by {@link Heartbeat#CLOSE_TIMEOUT}.
   */
  @Override
  public void close() {
    closed = true;
    stopBackground();
  }

  private void stopBackground() {
    Heartbeat h;
    ConfigWatch w;
    synchronized (lock) {
      h = heartbeat;
      w = watch;
      heartbeat = null;
      watch = null;
    }
    if (w != null) {
      w.close();
    }
    if (h != null) {
      h.close();
    }
  }

  private DeviceSession requireSession(String rpc) {
    DeviceSession s = session;
    if (s == null) {
      throw new IllegalStateException(rpc + " needs a session: attach first");
    }
    return s;
  }

  private static void requireFeature(DeviceSession s, int bit, String rpc)
      throws TransportException {
    if (!s.has(bit)) {
      throw TransportException.local(Reason.NOT_NEGOTIATED, rpc,
          VirtioBalloon.name(bit) + " was not negotiated (" + s.features() + ")");
    }
  }

  private static void checkEntries(long[] pfns, int[] orders, int n, int max) {
    if (n < 1 || n > max) {
      throw new IllegalArgumentException("n must be in [1, " + max + "], was " + n);
    }
    if (pfns.length < n || orders.length < n) {
      throw new IllegalArgumentException("pfns and orders must hold n = " + n
          + " entries, hold " + pfns.length + " and " + orders.length);
    }
  }

  /** Runs one unary call with its deadline; the one place a status becomes a reason. */
  private <T> T call(
      String rpc, Duration deadline, Function<BalloonDeviceGrpc.BalloonDeviceBlockingStub, T> fn)
      throws TransportException {
    if (closed) {
      throw TransportException.local(Reason.CANCELLED, rpc, "the client is closed");
    }
    try {
      return fn.apply(stub.withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS));
    } catch (StatusRuntimeException e) {
      throw TransportException.fromCall(rpc, e);
    }
  }
}
