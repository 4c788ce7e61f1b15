package io.hintlab.host.rpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.hintlab.host.device.BalloonDevice;
import io.hintlab.host.device.BalloonException;
import io.hintlab.host.device.BalloonException.Reason;
import io.hintlab.host.device.HostMode;
import io.hintlab.host.migration.Bandwidth;
import io.hintlab.host.migration.CorruptionCause;
import io.hintlab.host.migration.GuardSwitches;
import io.hintlab.host.migration.MigrationOptions;
import io.hintlab.host.migration.PrecopyMigration;
import io.hintlab.host.migration.RoundStats;
import io.hintlab.host.races.RaceEvent;
import io.hintlab.proto.v1.GuestCounters;
import io.hintlab.proto.v1.GuestRef;
import io.hintlab.proto.v1.GuestStatus;
import io.hintlab.proto.v1.HostControlGrpc;
import io.hintlab.proto.v1.ListGuestsRequest;
import io.hintlab.proto.v1.ListGuestsResponse;
import io.hintlab.proto.v1.MemoryMap;
import io.hintlab.proto.v1.MigrateEvent;
import io.hintlab.proto.v1.MigrateRequest;
import io.hintlab.proto.v1.MigrationProgress;
import io.hintlab.proto.v1.MigrationReport;
import io.hintlab.proto.v1.MigrationRound;
import io.hintlab.proto.v1.MetricsRequest;
import io.hintlab.proto.v1.MetricsResponse;
import io.hintlab.proto.v1.RaceEventsRequest;
import io.hintlab.proto.v1.RaceEventsResponse;
import io.hintlab.proto.v1.SetBalloonTargetRequest;
import io.hintlab.proto.v1.SetModeRequest;
import io.hintlab.proto.v1.SetModeResponse;
import io.hintlab.proto.v1.StopHintingRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The HostControl gRPC service: status, memory maps, host requests, race log, counters, and
 * live migrations.
 */
public final class HostControlService extends HostControlGrpc.HostControlImplBase {
  private static final int DEFAULT_RACE_LIMIT = 1000;
  private static final int MAX_RACE_LIMIT = 10_000;

  private final SessionRegistry registry;

  /** Controls the guests of {@code registry}. */
  public HostControlService(SessionRegistry registry) {
    this.registry = registry;
  }

  @FunctionalInterface
  private interface Body<T> {
    T run() throws Exception;
  }

  private static <T> void answer(StreamObserver<T> out, Body<T> body) {
    T result;
    try {
      result = body.run();
    } catch (Exception e) {
      out.onError(StatusMapper.toStatus(e));
      return;
    }
    out.onNext(result);
    out.onCompleted();
  }

  /** Status of one device as the control service shows it. */
  static GuestStatus status(BalloonDevice d) {
    long rss;
    try {
      rss = d.memory().allocatedBytes();
    } catch (IOException | IllegalStateException e) {
      rss = 0; // the guest is being detached
    }
    return GuestStatus.newBuilder()
        .setGuestId(d.guestId())
        .setGuestName(d.guestName())
        .setPid(d.pid())
        .setMemoryBytes(d.memory().pages() * d.memory().pageSize())
        .setNegotiatedFeatures(d.negotiatedFeatures())
        .setConfig(ProtoConverters.config(d.config()))
        .setHostMode(d.mode().wireName())
        .setRssBytes(rss)
        .setRssPeakBytes(d.memory().peakAllocatedBytes())
        .setDiscardedPages(d.memory().discardedPages())
        .setPaused(d.paused())
        .setHintingStatus(d.hinting().status().name())
        .putAllCounters(d.counters())
        .setAttachedAtNs(d.attachedAtNs())
        .build();
  }

  private BalloonDevice device(String id) throws BalloonException {
    return registry.byId(id).device();
  }

  @Override
  public void listGuests(ListGuestsRequest req, StreamObserver<ListGuestsResponse> out) {
    answer(out, () -> {
      ListGuestsResponse.Builder b = ListGuestsResponse.newBuilder();
      for (Session s : registry.sessions()) {
        b.addGuests(status(s.device()));
      }
      return b.build();
    });
  }

  @Override
  public void getGuest(GuestRef req, StreamObserver<GuestStatus> out) {
    answer(out, () -> status(device(req.getGuestId())));
  }

  @Override
  public void getMemoryMap(GuestRef req, StreamObserver<MemoryMap> out) {
    answer(out, () -> {
      BalloonDevice d = device(req.getGuestId());
      return MemoryMap.newBuilder()
          .setGuestId(d.guestId())
          .setPagesPerBlock(BalloonDevice.PAGES_PER_BLOCK)
          .setPageblockStates(com.google.protobuf.ByteString.copyFrom(d.memoryMap()))
          .build();
    });
  }

  @Override
  public void setBalloonTarget(SetBalloonTargetRequest req, StreamObserver<GuestStatus> out) {
    answer(out, () -> {
      BalloonDevice d = device(req.getGuestId());
      d.setTarget(req.getNumPages());
      return status(d);
    });
  }

  @Override
  public void startHinting(GuestRef req, StreamObserver<GuestStatus> out) {
    answer(out, () -> {
      BalloonDevice d = device(req.getGuestId());
      d.startHinting();
      return status(d);
    });
  }

  @Override
  public void stopHinting(StopHintingRequest req, StreamObserver<GuestStatus> out) {
    answer(out, () -> {
      BalloonDevice d = device(req.getGuestId());
      d.stopHinting(req.getDone());
      return status(d);
    });
  }

  @Override
  public void pauseGuest(GuestRef req, StreamObserver<GuestStatus> out) {
    answer(out, () -> {
      BalloonDevice d = device(req.getGuestId());
      d.pause();
      return status(d);
    });
  }

  @Override
  public void resumeGuest(GuestRef req, StreamObserver<GuestStatus> out) {
    answer(out, () -> {
      BalloonDevice d = device(req.getGuestId());
      d.resume();
      return status(d);
    });
  }

  @Override
  public void setMode(SetModeRequest req, StreamObserver<SetModeResponse> out) {
    answer(out, () -> {
      HostMode m;
      try {
        m = HostMode.parse(req.getMode());
      } catch (IllegalArgumentException e) {
        throw new BalloonException(Reason.MALFORMED_REQUEST, e.getMessage());
      }
      if (req.getGuestId().isEmpty()) {
        registry.setDefaultMode(m);
      } else {
        device(req.getGuestId()).setMode(m);
      }
      return SetModeResponse.newBuilder().setMode(m.wireName()).build();
    });
  }

  @Override
  public void getRaceEvents(RaceEventsRequest req, StreamObserver<RaceEventsResponse> out) {
    answer(out, () -> {
      int limit = req.getLimit() == 0 ? DEFAULT_RACE_LIMIT
          : (int) Math.min(Integer.toUnsignedLong(req.getLimit()), MAX_RACE_LIMIT);
      long since = req.getSince() < 0 ? Long.MAX_VALUE : req.getSince();
      List<RaceEvent> events = registry.raceLog().since(since, limit, req.getGuestId());
      RaceEventsResponse.Builder b =
          RaceEventsResponse.newBuilder().setDropped(registry.raceLog().dropped());
      for (RaceEvent e : events) {
        b.addEvents(io.hintlab.proto.v1.RaceEvent.newBuilder()
            .setSequence(e.sequence())
            .setGuestId(e.guestId())
            .setKind(e.kind().wireName())
            .setPfn(e.pfn())
            .setTimeNs(e.timeNs())
            .setDetail(e.detail()));
      }
      return b.build();
    });
  }

  @Override
  public void getMetrics(MetricsRequest req, StreamObserver<MetricsResponse> out) {
    answer(out, () -> {
      MetricsResponse.Builder b = MetricsResponse.newBuilder();
      List<Session> sessions = req.getGuestId().isEmpty()
          ? registry.sessions() : List.of(registry.byId(req.getGuestId()));
      for (Session s : sessions) {
        b.addGuests(GuestCounters.newBuilder()
            .setGuestId(s.guestId())
            .putAllCounters(s.device().counters()));
      }
      return b.build();
    });
  }

  /**
   * Starts a migration and streams its progress and report. The handler returns at once: the
   * migration runs on its own thread, which also sends every event (so the stream has one
   * writer); cancelling the call asks it to stop.
   */
  @Override
  public void migrate(MigrateRequest req, StreamObserver<MigrateEvent> out) {
    ServerCallStreamObserver<MigrateEvent> call = (ServerCallStreamObserver<MigrateEvent>) out;
    AtomicReference<PrecopyMigration> running = new AtomicReference<>();
    call.setOnCancelHandler(() -> {
      PrecopyMigration m = running.get();
      if (m != null) {
        m.requestStop(); // never blocks the transport: the thread stops itself, bounded
      }
    });
    PrecopyMigration m;
    try {
      BalloonDevice d = device(req.getGuestId());
      m = PrecopyMigration.start(d, migrationOptions(req),
          p -> send(call, MigrateEvent.newBuilder().setProgress(progress(p)).build()));
    } catch (Exception e) {
      out.onError(StatusMapper.toStatus(e));
      return;
    }
    running.set(m);
    if (call.isCancelled()) {
      m.requestStop();
    }
    m.result().whenComplete((report, error) -> finish(call, report, error));
  }

  // MigrateRequest -> options; bad values throw IllegalArgumentException (INVALID_ARGUMENT).
  private MigrationOptions migrationOptions(MigrateRequest req) throws BalloonException {
    Path dir = registry.hostDir();
    if (dir == null) {
      throw new BalloonException(Reason.GUEST_NOT_FOUND, "no guest has attached to this host");
    }
    MigrationOptions o = MigrationOptions.defaults(dir)
        .withHints(!req.getNoHints())
        .withGuards(GuardSwitches.parse(req.getGuardsOffList()));
    if (!req.getBandwidth().isEmpty()) {
      o = o.withBandwidth(Bandwidth.parse(req.getBandwidth()));
    }
    if (req.hasDowntimeLimitMs()) {
      o = o.withDowntimeLimitMs(req.getDowntimeLimitMs());
    }
    if (req.getMaxRounds() != 0) {
      o = o.withMaxRounds(req.getMaxRounds());
    }
    return o;
  }

  // Called on the migration thread only (progress, then the outcome): one writer per stream.
  private static void send(ServerCallStreamObserver<MigrateEvent> call, MigrateEvent e) {
    if (!call.isCancelled()) {
      call.onNext(e);
    }
  }

  private static void finish(ServerCallStreamObserver<MigrateEvent> call,
      io.hintlab.host.migration.MigrationReport report, Throwable error) {
    if (call.isCancelled()) {
      return;
    }
    if (report != null) {
      call.onNext(MigrateEvent.newBuilder().setReport(report(report)).build());
      call.onCompleted();
      return;
    }
    Throwable cause = error instanceof CompletionException ce && ce.getCause() != null
        ? ce.getCause() : error;
    call.onError(StatusMapper.toStatus(cause));
  }

  private static MigrationProgress progress(io.hintlab.host.migration.MigrationProgress p) {
    return MigrationProgress.newBuilder()
        .setPhase(p.phase().name())
        .setRound(p.round())
        .setBytesSent(p.bytesSent())
        .setRemainingPages(p.remainingPages())
        .setPagesSkippedByHints(p.pagesSkippedByHints())
        .build();
  }

  /** The wire form of a migration report (field names as in control.proto). */
  static MigrationReport report(io.hintlab.host.migration.MigrationReport r) {
    var t = r.transfer();
    var time = r.timing();
    var v = r.verification();
    MigrationReport.Builder b = MigrationReport.newBuilder()
        .setGuestId(r.guestId())
        .setHinting(r.hinting())
        .addAllGuardsOff(r.options().guards().names())
        .setBandwidthBytesPerSec(r.options().bandwidth().bytesPerSecond())
        .setDowntimeLimitMs(r.options().downtimeLimitMs())
        .setMaxRounds(r.options().maxRounds())
        .setRounds(t.rounds())
        .setConverged(t.converged())
        .setBytesSent(t.bytesSent())
        .setNormalPages(t.normalPages())
        .setZeroPages(t.zeroPages())
        .setHolePages(t.holePages())
        .setPagesSkippedByHints(t.pagesSkippedByHints())
        .setPagesHinted(t.pagesHinted())
        .setHintedBeforeReached(t.hintedBeforeReached())
        .setHintCmdIds(t.hintCmdIds())
        .setHintPagesIgnored(t.hintPagesIgnored())
        .setMigrationMs(time.migrationMs())
        .setDowntimeMs(time.downtimeMs())
        .setPauseMs(time.pauseMs())
        .setWallMs(time.wallMs())
        .setOwnedPages(v.ownedPages())
        .setCorruptedPages(v.corruptedPages())
        .setDetectorFlaggedPages(v.detectorFlaggedPages())
        .setDetectorHits(v.detectorHits())
        .setDetectorMisses(v.detectorMisses())
        .setDetectorFalseAlarms(v.detectorFalseAlarms());
    for (CorruptionCause c : CorruptionCause.values()) {
      b.putCorruptedByCause(wireName(c), v.corrupted(c));
    }
    for (RoundStats s : r.roundStats()) {
      b.addRoundStats(MigrationRound.newBuilder()
          .setRound(s.round())
          .setStopAndCopy(s.stopAndCopy())
          .setNormalPages(s.normalPages())
          .setZeroPages(s.zeroPages())
          .setHolePages(s.holePages())
          .setBytesSent(s.wireBytes())
          .setLinkNs(s.linkNanos())
          .setPagesSkippedByHints(s.pagesSkippedByHints())
          .setDirtyPagesSynced(s.dirtyPagesSynced())
          .setRemainingPages(s.remainingPages()));
    }
    for (io.hintlab.host.migration.CorruptedPage p : v.samples()) {
      b.addCorruptedSamples(io.hintlab.proto.v1.CorruptedPage.newBuilder()
          .setPfn(p.pfn())
          .setCause(wireName(p.cause()))
          .setLastSentRound(p.lastSentRound())
          .setLastHintCmdId(p.lastHintId())
          .setDetected(p.detected()));
    }
    return b.build();
  }

  private static String wireName(CorruptionCause c) {
    return c.name().toLowerCase(Locale.ROOT);
  }
}
