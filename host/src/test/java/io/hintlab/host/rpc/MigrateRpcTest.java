package io.hintlab.host.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.hintlab.host.device.HostMode;
import io.hintlab.proto.v1.AttachResponse;
import io.hintlab.proto.v1.ConfigEvent;
import io.hintlab.proto.v1.GuestRef;
import io.hintlab.proto.v1.GuestStatus;
import io.hintlab.proto.v1.ListGuestsRequest;
import io.hintlab.proto.v1.MigrateEvent;
import io.hintlab.proto.v1.MigrateRequest;
import io.hintlab.proto.v1.MigrationReport;
import io.hintlab.proto.v1.PausedRequest;
import io.hintlab.proto.v1.SetModeRequest;
import io.hintlab.proto.v1.WatchConfigRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MigrateRpcTest {
  private static final long MEMORY = 8L << 20;
  private static final int PAGES = (int) (MEMORY / 4096);
  private static final int OWNED = 256;

  private static String onlyGuest(HostFixture fx) {
    return fx.control().listGuests(ListGuestsRequest.getDefaultInstance()).getGuests(0)
        .getGuestId();
  }

  /** A guest that owns pages [0, OWNED) and answers PAUSE from its own thread. */
  private static void answerPauses(HostFixture fx, AttachResponse a) {
    byte[] owned = new byte[PAGES / 8];
    for (int pfn = 0; pfn < OWNED; pfn++) {
      owned[pfn >>> 3] |= (byte) (1 << (pfn & 7));
    }
    PausedRequest answer = PausedRequest.newBuilder().setSessionToken(a.getSessionToken())
        .setOwnedBitmap(com.google.protobuf.ByteString.copyFrom(owned)).build();
    fx.deviceAsync().watchConfig(
        WatchConfigRequest.newBuilder().setSessionToken(a.getSessionToken()).build(),
        new StreamObserver<>() {
          @Override
          public void onNext(ConfigEvent e) {
            if (e.getKind() == ConfigEvent.Kind.PAUSE) {
              Thread.ofPlatform().name("test-guest-paused")
                  .start(() -> fx.device().paused(answer));
            }
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
  }

  private static List<MigrateEvent> migrate(HostFixture fx, MigrateRequest req) {
    List<MigrateEvent> events = new ArrayList<>();
    fx.control().migrate(req).forEachRemaining(events::add);
    return events;
  }

  @Test
  void migrateStreamsProgressThenTheReportOfAVerifiedMigration() throws Exception {
    try (HostFixture fx = new HostFixture(HostMode.MIGRATE, Duration.ofSeconds(30), 4)) {
      AttachResponse a = fx.attach("m", MEMORY);
      HostFixture.write(a, 0, OWNED); // the rest of the RAM file stays holes
      answerPauses(fx, a);
      List<MigrateEvent> events = migrate(fx, MigrateRequest.newBuilder()
          .setGuestId(onlyGuest(fx)).setBandwidth("unlimited").build());
      assertTrue(events.size() >= 3, events.toString());
      assertTrue(events.subList(0, events.size() - 1).stream().allMatch(MigrateEvent::hasProgress));
      MigrationReport r = events.get(events.size() - 1).getReport();
      assertTrue(r.getHinting(), "the guest negotiated FREE_PAGE_HINT in host mode migrate");
      assertEquals(1, r.getRounds());
      assertTrue(r.getConverged());
      assertEquals(OWNED, r.getNormalPages());
      assertEquals(PAGES - OWNED, r.getZeroPages());
      assertEquals(PAGES - OWNED, r.getHolePages());
      assertEquals(OWNED * 4104L + (PAGES - OWNED) * 9L, r.getBytesSent());
      assertEquals(0, r.getBandwidthBytesPerSec());
      assertEquals(0, r.getMigrationMs());
      assertEquals(OWNED, r.getOwnedPages());
      assertEquals(0, r.getCorruptedPages());
      assertEquals(Map.of("hint_after_last_write", 0L, "stale_id_accepted", 0L,
          "never_sent", 0L, "unexplained", 0L), r.getCorruptedByCauseMap());
      assertEquals(2, r.getRoundStatsCount());
      assertTrue(r.getRoundStats(1).getStopAndCopy());
      assertEquals(2, r.getHintCmdIds(), "after the setup sync and after round 0's sync");
      assertEquals(300, r.getDowntimeLimitMs(), "QEMU's default when unset");
    }
  }

  @Test
  void cancellingTheCallStopsTheMigrationAndFreesTheGuestForAnother() throws Exception {
    try (HostFixture fx = new HostFixture(HostMode.MIGRATE, Duration.ofSeconds(30), 4)) {
      AttachResponse a = fx.attach("m", MEMORY);
      HostFixture.write(a, 0, OWNED);
      answerPauses(fx, a);
      String id = onlyGuest(fx);
      Context.CancellableContext ctx = Context.current().withCancellation();
      // 1 KiB/s: the 256 data pages alone would take over 15 minutes.
      Iterator<MigrateEvent> it = ctx.call(() -> fx.control().migrate(
          MigrateRequest.newBuilder().setGuestId(id).setBandwidth("1KiB/s").build()));
      assertEquals("ITERATING", it.next().getProgress().getPhase());
      ctx.cancel(null);
      long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      GuestStatus st = status(fx, id);
      while (!st.getHintingStatus().equals("S_DONE") && System.nanoTime() < until) {
        Thread.sleep(10);
        st = status(fx, id);
      }
      assertEquals("S_DONE", st.getHintingStatus(), "the cleanup sent DONE");
      MigrationReport r = lastReport(fx, id, until);
      assertEquals(0, r.getCorruptedPages());
      assertEquals(OWNED, r.getOwnedPages());
    }
  }

  private static GuestStatus status(HostFixture fx, String id) {
    return fx.control().getGuest(GuestRef.newBuilder().setGuestId(id).build());
  }

  // The claim is released when the stopped thread has cleaned up: retry while it still holds it.
  private static MigrationReport lastReport(HostFixture fx, String id, long until)
      throws InterruptedException {
    MigrateRequest req = MigrateRequest.newBuilder().setGuestId(id).setBandwidth("unlimited")
        .build();
    while (true) {
      try {
        List<MigrateEvent> events = migrate(fx, req);
        return events.get(events.size() - 1).getReport();
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.FAILED_PRECONDITION
            || System.nanoTime() > until) {
          throw e;
        }
        Thread.sleep(10);
      }
    }
  }

  @Test
  void theReportCarriesTheFieldNamesTheCliPrintsAsJson() {
    for (String name : List.of("rounds", "bytes_sent", "normal_pages", "zero_pages",
        "pages_skipped_by_hints", "pages_hinted", "migration_ms", "downtime_ms",
        "corrupted_pages", "detector_hits", "detector_misses", "detector_false_alarms")) {
      assertNotNull(MigrationReport.getDescriptor().findFieldByName(name), name);
    }
  }

  @Test
  void badRequestsAreRefusedWithPreciseStatuses() throws Exception {
    try (HostFixture fx = new HostFixture(HostMode.MIGRATE, Duration.ofSeconds(30), 4)) {
      fx.attach("m", MEMORY);
      String id = onlyGuest(fx);
      assertStatus(Status.Code.NOT_FOUND, "no guest with id 'guest-99'",
          MigrateRequest.newBuilder().setGuestId("guest-99").build(), fx);
      assertStatus(Status.Code.INVALID_ARGUMENT, "bad bandwidth 'fast': use a number with a unit"
              + " (bit, Kbit, Mbit, Gbit, B/s, KiB/s, MiB/s, GiB/s, KB/s, MB/s, GB/s) or"
              + " 'unlimited'",
          MigrateRequest.newBuilder().setGuestId(id).setBandwidth("fast").build(), fx);
      assertStatus(Status.Code.INVALID_ARGUMENT, "unknown guard switch 'stop'; valid:"
              + " apply-hints-across-sync, accept-stale-ids, no-stop-before-sync",
          MigrateRequest.newBuilder().setGuestId(id).addGuardsOff("stop").build(), fx);
      assertStatus(Status.Code.INVALID_ARGUMENT, "downtime limit must be in [0, 2000000] ms,"
              + " was 2000001",
          MigrateRequest.newBuilder().setGuestId(id).setDowntimeLimitMs(2_000_001).build(), fx);
      assertStatus(Status.Code.FAILED_PRECONDITION, "migration of " + id + " failed at"
              + " stop-and-copy: guest " + id + " has no WatchConfig stream to receive PAUSE",
          MigrateRequest.newBuilder().setGuestId(id).setBandwidth("unlimited").build(), fx);
      fx.control().setMode(SetModeRequest.newBuilder().setGuestId(id).setMode("discard").build());
      assertStatus(Status.Code.FAILED_PRECONDITION, "guest " + id + " is in host mode discard;"
              + " a migration with free page hinting needs host mode migrate (SetMode), or no"
              + " hints", MigrateRequest.newBuilder().setGuestId(id).build(), fx);
    }
  }

  private static void assertStatus(Status.Code code, String description, MigrateRequest req,
      HostFixture fx) {
    StatusRuntimeException e =
        assertThrows(StatusRuntimeException.class, () -> migrate(fx, req), req.toString());
    assertEquals(code, e.getStatus().getCode(), req.toString());
    assertEquals(description, e.getStatus().getDescription(), req.toString());
  }
}
