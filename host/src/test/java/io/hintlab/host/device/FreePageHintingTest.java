package io.hintlab.host.device;

import static io.hintlab.host.device.HintStatus.S_DONE;
import static io.hintlab.host.device.HintStatus.S_REQUESTED;
import static io.hintlab.host.device.HintStatus.S_START;
import static io.hintlab.host.device.HintStatus.S_STOP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.host.device.FreePageHinting.Admission;
import io.hintlab.host.device.FreePageHinting.Relaxation;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class FreePageHintingTest {
  private static final int MIN = VirtioBalloon.VIRTIO_BALLOON_FREE_PAGE_HINT_CMD_ID_MIN;

  /** Drives a fresh state machine into {@code s}. */
  private static FreePageHinting in(HintStatus s) {
    FreePageHinting h = new FreePageHinting();
    switch (s) {
      case S_STOP -> {}
      case S_REQUESTED -> h.requestNewCmdId();
      case S_START -> {
        h.guestStart(h.requestNewCmdId());
      }
      case S_DONE -> h.done();
    }
    assertEquals(s, h.status());
    return h;
  }

  static Stream<Arguments> transitions() {
    Consumer<FreePageHinting> request = FreePageHinting::requestNewCmdId;
    Consumer<FreePageHinting> stop = FreePageHinting::stop;
    Consumer<FreePageHinting> done = FreePageHinting::done;
    Consumer<FreePageHinting> startCur = h -> h.guestStart(h.cmdId());
    Consumer<FreePageHinting> startOther = h -> h.guestStart(h.cmdId() - 1);
    Consumer<FreePageHinting> guestStop = FreePageHinting::guestStop;
    return Stream.of(
        Arguments.of(S_STOP, "request", request, S_REQUESTED),
        Arguments.of(S_STOP, "stop", stop, S_STOP),
        Arguments.of(S_STOP, "done", done, S_DONE),
        Arguments.of(S_STOP, "startCur", startCur, S_STOP),
        Arguments.of(S_STOP, "guestStop", guestStop, S_STOP),
        Arguments.of(S_REQUESTED, "request", request, S_REQUESTED),
        Arguments.of(S_REQUESTED, "stop", stop, S_STOP),
        Arguments.of(S_REQUESTED, "done", done, S_DONE),
        Arguments.of(S_REQUESTED, "startCur", startCur, S_START),
        Arguments.of(S_REQUESTED, "startOther", startOther, S_REQUESTED),
        Arguments.of(S_REQUESTED, "guestStop", guestStop, S_REQUESTED),
        Arguments.of(S_START, "request", request, S_REQUESTED),
        Arguments.of(S_START, "stop", stop, S_STOP),
        Arguments.of(S_START, "done", done, S_DONE),
        Arguments.of(S_START, "startCur", startCur, S_STOP),
        Arguments.of(S_START, "startOther", startOther, S_STOP),
        Arguments.of(S_START, "guestStop", guestStop, S_STOP),
        Arguments.of(S_DONE, "request", request, S_REQUESTED),
        Arguments.of(S_DONE, "stop", stop, S_STOP),
        Arguments.of(S_DONE, "done", done, S_DONE),
        Arguments.of(S_DONE, "startCur", startCur, S_DONE),
        Arguments.of(S_DONE, "guestStop", guestStop, S_DONE));
  }

  @ParameterizedTest(name = "{0} --{1}--> {3}")
  @MethodSource("transitions")
  void shouldFollowTransitionTable(
      HintStatus from, String event, Consumer<FreePageHinting> action, HintStatus to) {
    FreePageHinting h = in(from);
    action.accept(h);
    assertEquals(to, h.status(), from + " on " + event);
  }

  @Test
  void shouldIssueIdsFromMinAndWrapToMin() throws Exception {
    FreePageHinting h = new FreePageHinting();
    assertEquals(MIN, h.requestNewCmdId());
    assertEquals(MIN + 1, h.requestNewCmdId());
    var f = FreePageHinting.class.getDeclaredField("cmdId");
    f.setAccessible(true);
    f.setInt(h, -2); // 0xFFFFFFFE
    assertEquals(-1, h.requestNewCmdId());
    assertEquals(MIN, h.requestNewCmdId(), "0xFFFFFFFF wraps to CMD_ID_MIN, never 0 or 1");
  }

  @Test
  void shouldExposeConfigCmdIdAsQemuDoes() {
    FreePageHinting h = new FreePageHinting();
    assertEquals(VirtioBalloon.VIRTIO_BALLOON_CMD_ID_STOP, h.configCmdId());
    int id = h.requestNewCmdId();
    assertEquals(id, h.configCmdId());
    h.guestStart(id);
    assertEquals(0, h.configCmdId());
    h.done();
    assertEquals(VirtioBalloon.VIRTIO_BALLOON_CMD_ID_DONE, h.configCmdId());
  }

  @Test
  void shouldAnswerHintsWithTheRoundsIdWhileItIsStartedNotStop() throws Exception {
    FreePageHinting h = new FreePageHinting();
    int id = h.requestNewCmdId();
    h.guestStart(id);
    assertEquals(id, h.currentCmdId(), "config reads 0 in S_START, but the answer names the round");
    assertEquals(id, h.applyHints(id, new long[] {0}, new long[] {1}).hostCmdId());
    h.guestStop();
    assertEquals(VirtioBalloon.VIRTIO_BALLOON_CMD_ID_STOP, h.currentCmdId());
    h.done();
    assertEquals(VirtioBalloon.VIRTIO_BALLOON_CMD_ID_DONE, h.currentCmdId());
  }

  @Test
  void shouldApplyHintsOnlyWhileCurrentIdStarted() throws Exception {
    FreePageHinting h = new FreePageHinting();
    List<Long> applied = new ArrayList<>();
    h.setSink((pfn, n, id) -> applied.add(pfn));
    int id = h.requestNewCmdId();
    assertEquals(1, h.applyHints(id, new long[] {0}, new long[] {1}).ignored(), "not started");
    h.guestStart(id);
    assertEquals(1, h.applyHints(id, new long[] {8}, new long[] {1}).applied());
    assertEquals(1, h.applyHints(id - 1, new long[] {16}, new long[] {1}).ignored(), "stale");
    h.stop();
    assertEquals(1, h.applyHints(id, new long[] {24}, new long[] {1}).ignored(), "stopped");
    assertEquals(List.of(8L), applied);
    assertEquals(3, h.staleHintRanges());
  }

  @Test
  void shouldIgnoreStaleStopOfPreviousRound() {
    FreePageHinting h = new FreePageHinting();
    int id = h.requestNewCmdId();
    assertFalse(h.guestStop(), "a stop before start belongs to an older round");
    assertTrue(h.guestStart(id));
    assertEquals(1, h.staleCmdIds());
  }

  @Test
  void shouldStopBeforeBitmapSyncAndRestartAfter() {
    FreePageHinting h = new FreePageHinting();
    List<HintStatus> seen = new ArrayList<>();
    h.addListener((from, to, id) -> seen.add(to));
    h.precopyNotify(FreePageHinting.PrecopyEvent.AFTER_BITMAP_SYNC, true);
    h.guestStart(h.cmdId());
    h.precopyNotify(FreePageHinting.PrecopyEvent.BEFORE_BITMAP_SYNC, true);
    h.precopyNotify(FreePageHinting.PrecopyEvent.AFTER_BITMAP_SYNC, false);
    h.precopyNotify(FreePageHinting.PrecopyEvent.CLEANUP, false);
    assertEquals(List.of(S_REQUESTED, S_START, S_STOP, S_DONE, S_DONE), seen);
  }

  /** Records each batch's id and admission and the ranges applied. */
  private static final class AdmissionLog implements HintSink {
    final List<String> batches = new ArrayList<>();
    final List<Long> pfns = new ArrayList<>();

    @Override
    public void beginBatch(int cmdId, Admission admission) {
      batches.add(Integer.toHexString(cmdId) + ":" + admission);
    }

    @Override
    public void applyHint(long pfn, long nrPages, int cmdId) {
      pfns.add(pfn);
    }
  }

  private static FreePageHinting relaxed(AdmissionLog log, Relaxation... off) {
    FreePageHinting h = new FreePageHinting();
    h.setSink(log);
    h.setRelaxations(off.length == 0 ? Set.of() : EnumSet.copyOf(List.of(off)));
    return h;
  }

  @Test
  void withoutRelaxationsOnlyTheStartedCurrentIdIsAdmitted() throws Exception {
    AdmissionLog log = new AdmissionLog();
    FreePageHinting h = relaxed(log);
    int id = h.requestNewCmdId();
    h.guestStart(id);
    assertEquals(Admission.CURRENT, h.admit(id));
    assertEquals(Admission.IGNORED, h.admit(id - 1));
    h.stop();
    assertEquals(Admission.IGNORED, h.admit(id), "QEMU drops a stopped round's late hints");
    h.requestNewCmdId();
    assertFalse(h.guestStart(id), "a START with an old id is stale");
    assertEquals(0, h.relaxedRanges());
  }

  @Test
  void applyAcrossSyncAdmitsTheStoppedRoundsLateHintsUntilTheNextRoundStarts() throws Exception {
    AdmissionLog log = new AdmissionLog();
    FreePageHinting h = relaxed(log, Relaxation.APPLY_ACROSS_SYNC);
    int id = h.requestNewCmdId();
    assertEquals(Admission.IGNORED, h.admit(id), "never started: nothing is late");
    h.guestStart(id);
    h.stop(); // BEFORE_BITMAP_SYNC
    assertEquals(Admission.LATE_AFTER_STOP, h.admit(id));
    int next = h.requestNewCmdId(); // AFTER_BITMAP_SYNC
    assertEquals(1, h.applyHints(id, new long[] {8}, new long[] {1}).applied());
    assertEquals(Admission.IGNORED, h.admit(id - 1), "only the last started round is late");
    h.guestStart(next);
    assertEquals(Admission.IGNORED, h.admit(id), "the next round started");
    h.done();
    assertEquals(Admission.IGNORED, h.admit(next), "nothing after DONE");
    assertEquals(List.of(Integer.toHexString(id) + ":LATE_AFTER_STOP"), log.batches);
    assertEquals(1, h.relaxedRanges());
  }

  @Test
  void acceptStaleIdsStartsARoundOnAnOldIdAndAppliesItsHints() throws Exception {
    AdmissionLog log = new AdmissionLog();
    FreePageHinting h = relaxed(log, Relaxation.ACCEPT_STALE_IDS);
    int old = h.requestNewCmdId();
    int current = h.requestNewCmdId();
    assertTrue(h.guestStart(old), "the old round's START is taken for the current one");
    assertEquals(HintStatus.S_START, h.status());
    assertEquals(Admission.STALE_ID, h.admit(old));
    assertEquals(Admission.CURRENT, h.admit(current));
    h.applyHints(old, new long[] {16}, new long[] {1});
    h.stop();
    assertEquals(Admission.IGNORED, h.admit(old), "the STOP guard still holds");
    h.requestNewCmdId();
    assertFalse(h.guestStart(VirtioBalloon.VIRTIO_BALLOON_CMD_ID_DONE), "never a reserved id");
    assertEquals(List.of(Integer.toHexString(old) + ":STALE_ID"), log.batches);
    assertEquals(List.of(16L), log.pfns);
  }
}
