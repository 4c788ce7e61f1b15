package io.hintlab.host.rpc;

import static io.hintlab.host.rpc.HostFixture.range;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.hintlab.host.device.HostMode;
import io.hintlab.proto.v1.AttachResponse;
import io.hintlab.proto.v1.BalloonDeviceGrpc.BalloonDeviceBlockingStub;
import io.hintlab.proto.v1.DetachRequest;
import io.hintlab.proto.v1.GuestMemoryMap;
import io.hintlab.proto.v1.GuestRef;
import io.hintlab.proto.v1.GuestStatus;
import io.hintlab.proto.v1.HeartbeatRequest;
import io.hintlab.proto.v1.HintRanges;
import io.hintlab.proto.v1.HintRequest;
import io.hintlab.proto.v1.HostControlGrpc.HostControlBlockingStub;
import io.hintlab.proto.v1.PausedRequest;
import io.hintlab.proto.v1.PfnArray;
import io.hintlab.proto.v1.ReportRequest;
import io.hintlab.proto.v1.SetBalloonTargetRequest;
import io.hintlab.proto.v1.SetModeRequest;
import io.hintlab.proto.v1.Stat;
import io.hintlab.proto.v1.StatsRequest;
import io.hintlab.proto.v1.StopHintingRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each malformed call gets its precise status, and the host's state is unchanged after it: every
 * guest's status and counters (but rejected_calls), the victim's allocated blocks, the number of
 * guests and the files of the host directory.
 */
class MalformedInputTest {
  private static final long MEM = 16L << 20; // 4096 pages
  private static HostFixture fx;
  private static AttachResponse guest;
  private static String guestId;
  /** A second guest that negotiated no feature: its queues are FAILED_PRECONDITION. */
  private static AttachResponse plain;
  private static String plainId;

  /** A call made with the fixture's stubs, the guest's token and its id. */
  private record Call(String name, Status.Code expected,
      BiConsumer<BalloonDeviceBlockingStub, String> device,
      BiConsumer<HostControlBlockingStub, String> control) {}

  @BeforeAll
  static void setUp() throws IOException {
    fx = new HostFixture(HostMode.DISCARD, Duration.ofSeconds(30), 2); // both slots used
    guest = fx.attach("victim", MEM);
    plain = fx.device().attach(HostFixture.attachRequest("plain", MEM, 0));
    var guests = fx.control().listGuests(
        io.hintlab.proto.v1.ListGuestsRequest.getDefaultInstance());
    guestId = guests.getGuests(0).getGuestId();
    plainId = guests.getGuests(1).getGuestId();
    HostFixture.write(guest, 0, 1024);
    fx.device().report(ReportRequest.newBuilder().setSessionToken(guest.getSessionToken())
        .addRanges(range(0, 9)).build());
  }

  @AfterAll
  static void tearDown() {
    fx.close();
  }

  private static ReportRequest.Builder report() {
    return ReportRequest.newBuilder().setSessionToken(guest.getSessionToken());
  }

  private static Call dev(String name, Status.Code code,
      BiConsumer<BalloonDeviceBlockingStub, String> c) {
    return new Call(name, code, c, null);
  }

  private static Call ctl(String name, Status.Code code,
      BiConsumer<HostControlBlockingStub, String> c) {
    return new Call(name, code, null, c);
  }

  private static HintRequest.Builder hint() {
    return HintRequest.newBuilder().setSessionToken(guest.getSessionToken());
  }

  private static HintRanges.Builder hinted() {
    return HintRanges.newBuilder().setCmdId(0x80000000);
  }

  static Stream<Arguments> cases() {
    var many = report();
    for (int i = 0; i < 33; i++) {
      many.addRanges(range(512L * i, 0));
    }
    var manyHints = hinted();
    for (int i = 0; i < 1025; i++) {
      manyHints.addRanges(range(i, 0));
    }
    List<Call> calls = List.of(
        dev("pfn beyond RAM", Status.Code.OUT_OF_RANGE,
            (s, t) -> s.report(report().addRanges(range(4096, 0)).build())),
        dev("range ends beyond RAM", Status.Code.OUT_OF_RANGE,
            (s, t) -> s.report(report().addRanges(range(4095, 0)).addRanges(range(3584, 10))
                .build())),
        dev("huge pfn", Status.Code.OUT_OF_RANGE,
            (s, t) -> s.report(report().addRanges(range(-512, 9)).build())),
        dev("misaligned range", Status.Code.INVALID_ARGUMENT,
            (s, t) -> s.report(report().addRanges(range(513, 9)).build())),
        dev("order too large", Status.Code.INVALID_ARGUMENT,
            (s, t) -> s.report(report().addRanges(range(0, 11)).build())),
        dev("overlapping ranges", Status.Code.INVALID_ARGUMENT,
            (s, t) -> s.report(report().addRanges(range(1024, 9)).addRanges(range(1024, 10))
                .build())),
        dev("empty batch", Status.Code.INVALID_ARGUMENT, (s, t) -> s.report(report().build())),
        dev("33 ranges", Status.Code.RESOURCE_EXHAUSTED, (s, t) -> s.report(many.build())),
        dev("wrong token", Status.Code.UNAUTHENTICATED,
            (s, t) -> s.report(report().setSessionToken("00ff").addRanges(range(512, 9))
                .build())),
        dev("missing token", Status.Code.UNAUTHENTICATED,
            (s, t) -> s.report(report().setSessionToken("").addRanges(range(512, 9)).build())),
        dev("257 pfns", Status.Code.RESOURCE_EXHAUSTED,
            (s, t) -> s.inflate(PfnArray.newBuilder().setSessionToken(t)
                .addAllPfns(LongStream.range(0, 257).boxed().toList()).build())),
        dev("inflate pfn beyond RAM", Status.Code.OUT_OF_RANGE,
            (s, t) -> s.inflate(PfnArray.newBuilder().setSessionToken(t).addPfns(1)
                .addPfns(5000).build())),
        dev("hint without kind", Status.Code.INVALID_ARGUMENT,
            (s, t) -> s.hint(HintRequest.newBuilder().setSessionToken(t).build())),
        dev("hint misaligned", Status.Code.INVALID_ARGUMENT,
            (s, t) -> s.hint(HintRequest.newBuilder().setSessionToken(t)
                .setRanges(HintRanges.newBuilder().setCmdId(0x80000000)
                    .addRanges(range(3, 10))).build())),
        dev("unknown stats tag", Status.Code.INVALID_ARGUMENT,
            (s, t) -> s.stats(StatsRequest.newBuilder().setSessionToken(t)
                .addStats(Stat.newBuilder().setTag(4).setValue(1))
                .addStats(Stat.newBuilder().setTag(99).setValue(1)).build())),
        dev("paused without pause", Status.Code.FAILED_PRECONDITION,
            (s, t) -> s.paused(PausedRequest.newBuilder().setSessionToken(t).build())),
        dev("memory map too long", Status.Code.INVALID_ARGUMENT,
            (s, t) -> s.publishMemoryMap(GuestMemoryMap.newBuilder().setSessionToken(t)
                .setPageblockStates(ByteString.copyFrom(new byte[9])).build())),
        ctl("unknown guest", Status.Code.NOT_FOUND,
            (c, id) -> c.getGuest(GuestRef.newBuilder().setGuestId("guest-999").build())),
        ctl("bad mode", Status.Code.INVALID_ARGUMENT,
            (c, id) -> c.setMode(SetModeRequest.newBuilder().setGuestId(id).setMode("yolo")
                .build())),
        ctl("pause without stream", Status.Code.FAILED_PRECONDITION,
            (c, id) -> c.pauseGuest(GuestRef.newBuilder().setGuestId(id).build())),
        ctl("resume not paused", Status.Code.FAILED_PRECONDITION,
            (c, id) -> c.resumeGuest(GuestRef.newBuilder().setGuestId(id).build())),
        ctl("target beyond RAM", Status.Code.OUT_OF_RANGE,
            (c, id) -> c.setBalloonTarget(SetBalloonTargetRequest.newBuilder().setGuestId(id)
                .setNumPages(4097).build())),
        ctl("stop hinting unknown guest", Status.Code.NOT_FOUND,
            (c, id) -> c.stopHinting(StopHintingRequest.newBuilder().setGuestId("x").build())),
        // Attach: negotiation and sizes are checked before any file is created.
        dev("unknown feature bits", Status.Code.INVALID_ARGUMENT,
            (s, t) -> s.attach(HostFixture.attachRequest("x", MEM, 1L << 40))),
        dev("feature not offered (bit 6 outside hint-wait-ack)", Status.Code.INVALID_ARGUMENT,
            (s, t) -> s.attach(HostFixture.attachRequest("x", MEM, 1L << 6))),
        dev("attach page size 8192", Status.Code.INVALID_ARGUMENT,
            (s, t) -> s.attach(HostFixture.attachRequest("x", MEM, 0).toBuilder()
                .setPageSize(8192).build())),
        dev("attach no memory", Status.Code.INVALID_ARGUMENT,
            (s, t) -> s.attach(HostFixture.attachRequest("x", 0, 0))),
        dev("attach memory not a page multiple", Status.Code.INVALID_ARGUMENT,
            (s, t) -> s.attach(HostFixture.attachRequest("x", MEM + 1, 0))),
        dev("attach max_order 21", Status.Code.INVALID_ARGUMENT,
            (s, t) -> s.attach(HostFixture.attachRequest("x", MEM, 0).toBuilder()
                .setMaxOrder(21).build())),
        dev("too many guests", Status.Code.RESOURCE_EXHAUSTED,
            (s, t) -> s.attach(HostFixture.attachRequest("third", MEM, HostFixture.ALL_FEATURES))),
        // Queues of features the guest did not negotiate.
        dev("report without PAGE_REPORTING", Status.Code.FAILED_PRECONDITION,
            (s, t) -> s.report(ReportRequest.newBuilder().setSessionToken(plain.getSessionToken())
                .addRanges(range(0, 9)).build())),
        dev("hint without FREE_PAGE_HINT", Status.Code.FAILED_PRECONDITION,
            (s, t) -> s.hint(HintRequest.newBuilder().setSessionToken(plain.getSessionToken())
                .setStartCmdId(0x80000000).build())),
        dev("stats without STATS_VQ", Status.Code.FAILED_PRECONDITION,
            (s, t) -> s.stats(StatsRequest.newBuilder().setSessionToken(plain.getSessionToken())
                .addStats(Stat.newBuilder().setTag(4).setValue(1)).build())),
        ctl("start hinting without FREE_PAGE_HINT", Status.Code.FAILED_PRECONDITION,
            (c, id) -> c.startHinting(GuestRef.newBuilder().setGuestId(plainId).build())),
        // Hint ranges get the same checks as reports, with the free page queue's size.
        dev("1025 hinted ranges", Status.Code.RESOURCE_EXHAUSTED,
            (s, t) -> s.hint(hint().setRanges(manyHints).build())),
        dev("hint pfn beyond RAM", Status.Code.OUT_OF_RANGE,
            (s, t) -> s.hint(hint().setRanges(hinted().addRanges(range(4096, 10))).build())),
        dev("hint order too large", Status.Code.INVALID_ARGUMENT,
            (s, t) -> s.hint(hint().setRanges(hinted().addRanges(range(0, 11))).build())),
        dev("hint overlapping ranges", Status.Code.INVALID_ARGUMENT,
            (s, t) -> s.hint(hint().setRanges(hinted().addRanges(range(0, 10))
                .addRanges(range(512, 9))).build())),
        dev("order 2^32-1", Status.Code.INVALID_ARGUMENT,
            (s, t) -> s.report(report().addRanges(range(0, -1)).build())),
        dev("deflate pfn beyond RAM", Status.Code.OUT_OF_RANGE,
            (s, t) -> s.deflate(PfnArray.newBuilder().setSessionToken(t).addPfns(4096).build())),
        dev("detach with wrong token", Status.Code.UNAUTHENTICATED,
            (s, t) -> s.detach(DetachRequest.newBuilder().setSessionToken(t + "0").build())),
        dev("heartbeat with a forged token", Status.Code.UNAUTHENTICATED,
            (s, t) -> s.heartbeat(HeartbeatRequest.newBuilder()
                .setSessionToken(new StringBuilder(plain.getSessionToken()).reverse().toString())
                .build())));
    return calls.stream().map(c -> Arguments.of(c.name(), c));
  }

  /**
   * What must not change: everything the control service shows of every guest except
   * rejected_calls, the victim's allocated blocks, and the host directory's files.
   */
  private static Map<String, Object> state() throws IOException {
    Map<String, Object> m = new HashMap<>();
    for (GuestStatus st : fx.control().listGuests(
        io.hintlab.proto.v1.ListGuestsRequest.getDefaultInstance()).getGuestsList()) {
      Map<String, Object> g = new HashMap<>(st.getCountersMap());
      g.remove("rejected_calls");
      g.put("config", st.getConfig());
      g.put("rss", st.getRssBytes());
      g.put("discarded", st.getDiscardedPages());
      g.put("hinting", st.getHintingStatus());
      g.put("mode", st.getHostMode());
      g.put("paused", st.getPaused());
      m.put(st.getGuestId(), g);
    }
    m.put("allocated", HostFixture.allocated(guest));
    try (var files = Files.list(Path.of(guest.getRamPath()).getParent())) {
      m.put("files", files.map(p -> p.getFileName().toString()).sorted().toList());
    }
    return m;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void shouldRejectWithPreciseStatusAndChangeNothing(String name, Call call) throws IOException {
    Map<String, Object> before = state();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> {
      if (call.device() != null) {
        call.device().accept(fx.device(), guest.getSessionToken());
      } else {
        call.control().accept(fx.control(), guestId);
      }
    }, name);
    assertEquals(call.expected(), e.getStatus().getCode(), name + ": " + e.getStatus());
    String desc = e.getStatus().getDescription();
    assertFalse(desc == null || desc.isBlank(), name + ": status needs a description");
    assertFalse(desc.contains("Exception") && desc.contains("at io."), "no stack traces");
    assertEquals(before, state(), name + ": state changed");
  }
}
