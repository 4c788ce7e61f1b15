package io.hintlab.host.rpc;

import static io.hintlab.host.rpc.ProtoConverters.config;
import static io.hintlab.host.rpc.ProtoConverters.orders;
import static io.hintlab.host.rpc.ProtoConverters.pfns;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.hintlab.host.device.BalloonDevice;
import io.hintlab.host.device.BalloonException;
import io.hintlab.host.device.BalloonException.Reason;
import io.hintlab.host.device.Counter;
import io.hintlab.host.device.FeatureNegotiation;
import io.hintlab.host.device.FreePageHinting;
import io.hintlab.proto.v1.AttachRequest;
import io.hintlab.proto.v1.AttachResponse;
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
import io.hintlab.proto.v1.Stat;
import io.hintlab.proto.v1.StatsAck;
import io.hintlab.proto.v1.StatsRequest;
import io.hintlab.proto.v1.WatchConfigRequest;

/**
 * The BalloonDevice gRPC service: one rpc per virtqueue. Every call but GetDeviceInfo and Attach
 * names its session by token; errors go through {@link StatusMapper}.
 */
public final class BalloonDeviceService extends BalloonDeviceGrpc.BalloonDeviceImplBase {
  /** Backing page size of tmpfs (PAGE_SIZE); reported before a guest's file exists. */
  private static final long TMPFS_PAGE_SIZE = 4096;

  private final SessionRegistry registry;

  /** Serves the sessions of {@code registry}. */
  public BalloonDeviceService(SessionRegistry registry) {
    this.registry = registry;
  }

  /** A call body that may throw domain errors. */
  @FunctionalInterface
  private interface Body<T> {
    T run(Session s) throws Exception;
  }

  /** Authenticates, runs, answers; counts and maps a failure. */
  private <T> void withSession(String token, StreamObserver<T> out, Body<T> body) {
    Session s;
    try {
      s = registry.authenticate(token);
    } catch (BalloonException e) {
      out.onError(StatusMapper.toStatus(e));
      return;
    }
    T result;
    try {
      result = body.run(s);
    } catch (Exception e) {
      s.device().count(Counter.REJECTED_CALLS, 1);
      out.onError(StatusMapper.toStatus(e));
      return;
    }
    out.onNext(result);
    out.onCompleted();
  }

  @Override
  public void getDeviceInfo(GetDeviceInfoRequest req, StreamObserver<DeviceInfo> out) {
    out.onNext(DeviceInfo.newBuilder()
        .setDeviceFeatures(FeatureNegotiation.offered(registry.defaultMode()))
        .setReportingCapacity(registry.config().deviceOptions().reportingCapacity())
        .setBackingPageSize(TMPFS_PAGE_SIZE)
        .setHostMode(registry.defaultMode().wireName())
        .setMaxMemoryBytes(registry.config().maxMemoryBytes())
        .build());
    out.onCompleted();
  }

  @Override
  public void attach(AttachRequest req, StreamObserver<AttachResponse> out) {
    try {
      Session s = registry.attach(req);
      BalloonDevice d = s.device();
      out.onNext(AttachResponse.newBuilder()
          .setSessionToken(s.token())
          .setNegotiatedFeatures(d.negotiatedFeatures())
          .setRamPath(d.memory().ramPath().toString())
          .setDirtyLogPath(d.memory().dirtyLogPath().toString())
          .setConfig(config(d.config()))
          .setReportingCapacity(d.options().reportingCapacity())
          .setReportingOrder(d.options().reportingOrder())
          .setLeaseMs((int) registry.config().lease().toMillis())
          .build());
      out.onCompleted();
    } catch (Exception e) {
      out.onError(StatusMapper.toStatus(e));
    }
  }

  @Override
  public void report(ReportRequest req, StreamObserver<ReportResponse> out) {
    withSession(req.getSessionToken(), out, s -> {
      BalloonDevice.ReportResult r =
          s.device().report(pfns(req.getRangesList()), orders(req.getRangesList()));
      return ReportResponse.newBuilder()
          .setDiscardedPages(r.discardedPages())
          .setIgnoredRanges(r.ignoredRanges())
          .setAlreadyDiscardedPages(r.alreadyDiscardedPages())
          .build();
    });
  }

  @Override
  public void hint(HintRequest req, StreamObserver<HintResponse> out) {
    withSession(req.getSessionToken(), out, s -> {
      BalloonDevice d = s.device();
      FreePageHinting.Result r = switch (req.getKindCase()) {
        case START_CMD_ID -> d.hintStart(req.getStartCmdId());
        case STOP -> d.hintStop();
        case RANGES -> d.hintRanges(req.getRanges().getCmdId(),
            pfns(req.getRanges().getRangesList()), orders(req.getRanges().getRangesList()));
        case KIND_NOT_SET -> throw new BalloonException(Reason.MALFORMED_REQUEST,
            "a Hint needs one of start_cmd_id, ranges or stop");
      };
      return HintResponse.newBuilder()
          .setHostCmdId(r.hostCmdId())
          .setAppliedRanges(r.applied())
          .setIgnoredRanges(r.ignored())
          .build();
    });
  }

  @Override
  public void inflate(PfnArray req, StreamObserver<PfnAck> out) {
    withSession(req.getSessionToken(), out, s -> PfnAck.newBuilder()
        .setProcessed(s.device().inflate(ProtoConverters.longs(req.getPfnsList())))
        .build());
  }

  @Override
  public void deflate(PfnArray req, StreamObserver<PfnAck> out) {
    withSession(req.getSessionToken(), out, s -> PfnAck.newBuilder()
        .setProcessed(s.device().deflate(ProtoConverters.longs(req.getPfnsList())))
        .build());
  }

  @Override
  public void stats(StatsRequest req, StreamObserver<StatsAck> out) {
    withSession(req.getSessionToken(), out, s -> {
      int n = req.getStatsCount();
      int[] tags = new int[n];
      long[] values = new long[n];
      for (int i = 0; i < n; i++) {
        Stat st = req.getStats(i);
        tags[i] = st.getTag();
        values[i] = st.getValue();
      }
      s.device().stats(tags, values);
      return StatsAck.getDefaultInstance();
    });
  }

  @Override
  public void watchConfig(WatchConfigRequest req, StreamObserver<ConfigEvent> out) {
    Session s;
    try {
      s = registry.authenticate(req.getSessionToken());
    } catch (BalloonException e) {
      out.onError(StatusMapper.toStatus(e));
      return;
    }
    ServerCallStreamObserver<ConfigEvent> call = (ServerCallStreamObserver<ConfigEvent>) out;
    WatchStream[] self = new WatchStream[1];
    WatchStream w = new WatchStream(call, () -> {
      s.clearWatch(self[0]);
      s.streamClosed();
    });
    self[0] = w;
    s.streamOpened();
    call.setOnCancelHandler(w::markDone);
    // The first event carries the current config (device.proto).
    w.configChanged(s.device().config());
    WatchStream old = s.replaceWatch(w);
    if (old != null) {
      old.complete();
    }
  }

  @Override
  public void paused(PausedRequest req, StreamObserver<PausedAck> out) {
    withSession(req.getSessionToken(), out, s -> {
      s.device().paused(req.getOwnedBitmap().toByteArray(), req.getLostWrites());
      return PausedAck.getDefaultInstance();
    });
  }

  @Override
  public void heartbeat(HeartbeatRequest req, StreamObserver<HeartbeatAck> out) {
    withSession(req.getSessionToken(), out, s -> HeartbeatAck.getDefaultInstance());
  }

  @Override
  public void publishMemoryMap(GuestMemoryMap req, StreamObserver<PublishAck> out) {
    withSession(req.getSessionToken(), out, s -> {
      s.device().publishMemoryMap(req.getPageblockStates().toByteArray(), req.getCountersMap());
      return PublishAck.getDefaultInstance();
    });
  }

  @Override
  public void detach(DetachRequest req, StreamObserver<DetachAck> out) {
    withSession(req.getSessionToken(), out, s -> {
      registry.detach(s, "guest detached");
      return DetachAck.getDefaultInstance();
    });
  }
}
