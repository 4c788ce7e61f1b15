package io.hintlab.host.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.StatusRuntimeException;
import io.hintlab.host.rpc.HostChannel;
import io.hintlab.host.rpc.HostConfig;
import io.hintlab.host.rpc.HostServer;
import io.hintlab.proto.v1.AttachRequest;
import io.hintlab.proto.v1.AttachResponse;
import io.hintlab.proto.v1.BalloonDeviceGrpc;
import io.hintlab.proto.v1.DetachRequest;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pair's control calls against an in-process host. */
class PairControlTest {
  private static final long PAGE_REPORTING = 1L << 5;

  @TempDir Path state;
  private HostServer host;
  private HostChannel channel;
  private PairControl control;

  @BeforeEach
  void start() throws Exception {
    host = HostServer.startInProcess(HostConfig.defaults().withStateBase(state));
    channel = HostChannel.open(host.address());
    control = new PairControl(channel.channel());
  }

  @AfterEach
  void stop() {
    channel.close();
    host.close();
  }

  private AttachResponse attach(long pid) {
    return BalloonDeviceGrpc.newBlockingStub(channel.channel())
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .attach(AttachRequest.newBuilder().setGuestName("g").setMemoryBytes(8L << 20)
            .setPageSize(4096).setMaxOrder(10).setDriverFeatures(PAGE_REPORTING).setPid(pid)
            .build());
  }

  @Test
  void findsTheGuestByThePidItAttachedWith() {
    assertEquals(Optional.empty(), control.findByPid(4242), "not attached yet");
    attach(1111);
    attach(4242);
    assertEquals(Optional.of("guest-2"), control.findByPid(4242), "ids in attach order");
    assertEquals(Optional.of("guest-1"), control.findByPid(1111));
  }

  @Test
  void samplesUntilTheHostNoLongerKnowsTheGuest() {
    AttachResponse a = attach(7);
    String id = control.findByPid(7).orElseThrow();
    GuestWatch w = new GuestWatch();
    control.sample(id, w, 0.1);
    control.sample(id, w, 0.2);
    assertEquals(2, w.samples());
    assertTrue(w.endBytes().isPresent());
    BalloonDeviceGrpc.newBlockingStub(channel.channel()).withDeadlineAfter(10, TimeUnit.SECONDS)
        .detach(DetachRequest.newBuilder().setSessionToken(a.getSessionToken()).build());
    control.sample(id, w, 0.3);
    assertTrue(w.isGone());
    assertEquals(2, w.samples());
  }

  @Test
  void hintingOnAGuestWithoutTheFeatureIsRefusedAndSaysWhy() {
    attach(7);
    ControlDriver.Calls calls = control.calls(control.findByPid(7).orElseThrow());
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, calls::startHinting);
    assertTrue(e.getMessage().startsWith("FAILED_PRECONDITION"), e.getMessage());
    assertTrue(e.getMessage().contains("FREE_PAGE_HINT"), e.getMessage());
    calls.setBalloonTarget(512);
    assertThrows(StatusRuntimeException.class, () -> calls.setBalloonTarget(1L << 20),
        "more pages than the guest has");
  }
}
