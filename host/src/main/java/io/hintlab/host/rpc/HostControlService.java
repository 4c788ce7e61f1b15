package io.hintlab.host.rpc;

import io.grpc.stub.StreamObserver;
import io.hintlab.host.device.BalloonDevice;
import io.hintlab.host.device.BalloonException;
import io.hintlab.host.device.BalloonException.Reason;
import io.hintlab.host.device.HostMode;
import io.hintlab.host.races.RaceEvent;
import io.hintlab.proto.v1.GuestCounters;
import io.hintlab.proto.v1.GuestRef;
import io.hintlab.proto.v1.GuestStatus;
import io.hintlab.proto.v1.HostControlGrpc;
import io.hintlab.proto.v1.ListGuestsRequest;
import io.hintlab.proto.v1.ListGuestsResponse;
import io.hintlab.proto.v1.MemoryMap;
import io.hintlab.proto.v1.MetricsRequest;
import io.hintlab.proto.v1.MetricsResponse;
import io.hintlab.proto.v1.RaceEventsRequest;
import io.hintlab.proto.v1.RaceEventsResponse;
import io.hintlab.proto.v1.SetBalloonTargetRequest;
import io.hintlab.proto.v1.SetModeRequest;
import io.hintlab.proto.v1.SetModeResponse;
import io.hintlab.proto.v1.StopHintingRequest;
import java.io.IOException;
import java.util.List;

/** The HostControl gRPC service: status, memory maps, host requests, race log, counters. */
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
}
