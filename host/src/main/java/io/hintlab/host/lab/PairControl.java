package io.hintlab.host.lab;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.hintlab.proto.v1.GuestRef;
import io.hintlab.proto.v1.GuestStatus;
import io.hintlab.proto.v1.HostControlGrpc;
import io.hintlab.proto.v1.HostControlGrpc.HostControlBlockingStub;
import io.hintlab.proto.v1.ListGuestsRequest;
import io.hintlab.proto.v1.SetBalloonTargetRequest;
import io.hintlab.proto.v1.StopHintingRequest;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The pair's calls to its host's control service, each with {@link #CALL_DEADLINE}. A slow or
 * unreachable host (DEADLINE_EXCEEDED, UNAVAILABLE) is not an error here: the caller checks
 * whether the host process still lives and tries again at its next tick.
 */
final class PairControl {
  /** Deadline of each call: the host answers these from memory in microseconds. */
  static final Duration CALL_DEADLINE = Duration.ofSeconds(2);

  private final HostControlBlockingStub stub;

  PairControl(Channel channel) {
    this.stub = HostControlGrpc.newBlockingStub(channel);
  }

  /**
   * The id of the guest whose attach request carried {@code pid}.
   *
   * @return the id, or empty while it has not attached (or the host did not answer in time)
   * @throws IllegalStateException if the host answered with an error
   */
  Optional<String> findByPid(long pid) {
    try {
      return deadline().listGuests(ListGuestsRequest.getDefaultInstance())
          .getGuestsList().stream().filter(g -> g.getPid() == pid)
          .map(GuestStatus::getGuestId).findFirst();
    } catch (StatusRuntimeException e) {
      if (isTransient(e)) {
        return Optional.empty();
      }
      throw new IllegalStateException("host answered ListGuests with " + e.getStatus(), e);
    }
  }

  /**
   * Takes one {@code GetGuest} sample into {@code watch}; NOT_FOUND marks the guest gone (it
   * detached and the host freed its RAM).
   *
   * @throws IllegalStateException if the host answered with another error
   */
  void sample(String guestId, GuestWatch watch, double elapsedSeconds) {
    try {
      watch.sampled(elapsedSeconds, deadline().getGuest(ref(guestId)));
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        watch.gone();
      } else if (!isTransient(e)) {
        throw new IllegalStateException("host answered GetGuest with " + e.getStatus(), e);
      }
    }
  }

  /** The balloon and hinting calls for one guest, for the {@link ControlDriver}. */
  ControlDriver.Calls calls(String guestId) {
    return new ControlDriver.Calls() {
      @Override
      public void setBalloonTarget(long pages) {
        deadline().setBalloonTarget(SetBalloonTargetRequest.newBuilder()
            .setGuestId(guestId).setNumPages((int) pages).build());
      }

      @Override
      public void startHinting() {
        deadline().startHinting(ref(guestId));
      }

      @Override
      public void stopHinting(boolean done) {
        deadline().stopHinting(StopHintingRequest.newBuilder().setGuestId(guestId)
            .setDone(done).build());
      }
    };
  }

  private static boolean isTransient(StatusRuntimeException e) {
    Status.Code c = e.getStatus().getCode();
    return c == Status.Code.UNAVAILABLE || c == Status.Code.DEADLINE_EXCEEDED;
  }

  private HostControlBlockingStub deadline() {
    return stub.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static GuestRef ref(String guestId) {
    return GuestRef.newBuilder().setGuestId(guestId).build();
  }
}
