package io.hintlab.guest.reporting;

import static io.hintlab.guest.reporting.ReportingAgent.State.ACTIVE;
import static io.hintlab.guest.reporting.ReportingAgent.State.IDLE;
import static io.hintlab.guest.reporting.ReportingAgent.State.REQUESTED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The agent's state machine (mm/page_reporting.c: __page_reporting_request(),
 * page_reporting_process(), page_reporting_register/unregister()) with a scripted strategy, on a
 * virtual clock unless a test needs a real thread.
 */
class ReportingAgentTest {
  private static final Duration DELAY = ReportingOptions.PAGE_REPORTING_DELAY;
  private static final ReportSink NO_SINK = (pfns, orders, n) -> {};

  private final ManualWorkScheduler clock = new ManualWorkScheduler();
  private final List<ReportingAgent> agents = new ArrayList<>();

  @AfterEach
  void closeAgents() {
    agents.forEach(ReportingAgent::close);
  }

  /** A strategy whose passes run a scripted action and record the agent's state. */
  private static final class ScriptedStrategy implements ReportingStrategy {
    final List<ReportingAgent.State> statesSeen = new ArrayList<>();
    int starts;
    int closes;
    int passes;
    ReportingAgent agent;
    Consumer<ReportingContext> duringPass = ctx -> {};

    @Override
    public String name() {
      return "scripted";
    }

    @Override
    public void onStart(ReportingContext ctx) {
      starts++;
    }

    @Override
    public int doWork(ReportingContext ctx) {
      passes++;
      statesSeen.add(agent.state());
      duringPass.accept(ctx);
      return 0;
    }

    @Override
    public void onClose() {
      closes++;
    }
  }

  private ReportingAgent agent(ScriptedStrategy s, Duration delay) {
    ReportingAgent a = new ReportingAgent(s, NO_SINK, delay, clock);
    s.agent = a;
    agents.add(a);
    return a;
  }

  // ---------------------------------------------------------------- requests and passes

  @Test
  void shouldRunTheFirstPassOneDelayAfterStart() {
    // page_reporting_register(): __page_reporting_request() -> schedule_delayed_work(2 s)
    ScriptedStrategy s = new ScriptedStrategy();
    ReportingAgent a = agent(s, DELAY);
    assertEquals(IDLE, a.state());
    a.start();
    assertEquals(1, s.starts);
    assertEquals(REQUESTED, a.state());
    assertEquals(Optional.of(DELAY), clock.nextDue());
    clock.advance(DELAY.minusNanos(1));
    assertEquals(0, s.passes, "not before the delay");
    clock.advance(Duration.ofNanos(1));
    assertEquals(1, s.passes);
    assertEquals(List.of(ACTIVE), s.statesSeen, "ACTIVE while the pass runs");
    assertEquals(IDLE, a.state());
    assertEquals(0, clock.pending());
    assertEquals(1, a.metrics().passes());
    assertEquals(1, a.metrics().scheduled());
  }

  @Test
  void shouldMergeRequestsWhileAPassIsPendingIntoThatPass() {
    // __page_reporting_request(): state == REQUESTED -> return; xchg found REQUESTED -> return
    ScriptedStrategy s = new ScriptedStrategy();
    ReportingAgent a = agent(s, DELAY);
    a.start();
    for (int i = 0; i < 5; i++) {
      clock.advance(Duration.ofMillis(100));
      a.request();
    }
    assertEquals(1, clock.pending());
    assertEquals(Optional.of(DELAY.minusMillis(500)), clock.nextDue(), "the delay is not reset");
    clock.advance(DELAY);
    assertEquals(1, s.passes);
    assertEquals(IDLE, a.state());
  }

  @Test
  void shouldRerunOnceWhenRequestsArriveDuringAPass() {
    // page_reporting_process(): cmpxchg(ACTIVE, IDLE) finds REQUESTED -> schedule in 2 s
    ScriptedStrategy s = new ScriptedStrategy();
    ReportingAgent a = agent(s, DELAY);
    s.duringPass =
        ctx -> {
          if (s.passes == 1) {
            for (int i = 0; i < 3; i++) {
              ctx.request();
              assertEquals(REQUESTED, a.state());
            }
            assertEquals(0, clock.pending(), "the running pass reruns; nothing scheduled yet");
          }
        };
    a.start();
    clock.advance(DELAY);
    assertEquals(1, s.passes);
    assertEquals(REQUESTED, a.state());
    assertEquals(Optional.of(DELAY), clock.nextDue(), "one delay after the pass ended");
    clock.advance(DELAY);
    assertEquals(2, s.passes);
    assertEquals(List.of(ACTIVE, ACTIVE), s.statesSeen);
    assertEquals(IDLE, a.state());
    assertEquals(0, clock.pending());
    assertEquals(2, a.metrics().scheduled());
  }

  @Test
  void shouldScheduleAgainForARequestAfterThePassEnded() {
    ScriptedStrategy s = new ScriptedStrategy();
    ReportingAgent a = agent(s, DELAY);
    a.start();
    clock.advance(DELAY);
    a.request();
    assertEquals(REQUESTED, a.state());
    assertEquals(1, clock.pending());
    clock.advance(DELAY);
    assertEquals(2, s.passes);
  }

  @Test
  void shouldRunAtOncePerAdvanceWithAZeroDelay() {
    ScriptedStrategy s = new ScriptedStrategy();
    ReportingAgent a = agent(s, Duration.ZERO);
    a.start();
    clock.advance(Duration.ZERO);
    assertEquals(1, s.passes);
    assertEquals(Duration.ZERO, a.delay());
  }

  @Test
  void shouldKeepTheStateMachineGoingWhenAPassThrows() {
    ScriptedStrategy s = new ScriptedStrategy();
    ReportingAgent a = agent(s, DELAY);
    IllegalStateException bug = new IllegalStateException("bug");
    s.duringPass =
        ctx -> {
          if (s.passes == 1) {
            ctx.request();
            throw bug;
          }
        };
    a.start();
    clock.advance(DELAY);
    assertEquals(1, a.metrics().passErrors());
    assertSame(bug, a.lastFailure().orElseThrow());
    assertEquals(REQUESTED, a.state(), "the request made before the throw still reruns");
    clock.advance(DELAY);
    assertEquals(2, s.passes);
    assertEquals(IDLE, a.state());
    assertEquals(2, a.metrics().passes());
  }

  @Test
  void shouldLeaveTheStateMachineConsistentWhenAPassThrowsAnError() {
    ScriptedStrategy s = new ScriptedStrategy();
    ReportingAgent a = agent(s, DELAY);
    StackOverflowError error = new StackOverflowError("deep");
    s.duringPass =
        ctx -> {
          throw error;
        };
    a.start();
    StackOverflowError thrown =
        assertThrows(StackOverflowError.class, () -> clock.advance(DELAY), "rethrown");
    assertSame(error, thrown);
    assertSame(error, a.lastFailure().orElseThrow());
    assertEquals(IDLE, a.state(), "not left ACTIVE");
    assertEquals(1, a.metrics().passes());
    assertEquals(1, a.metrics().passErrors());
  }

  // ---------------------------------------------------------------- start and close

  @Test
  void shouldRefuseASecondStartAndAStartAfterClose() {
    ScriptedStrategy s = new ScriptedStrategy();
    ReportingAgent a = agent(s, DELAY);
    a.start();
    IllegalStateException e = assertThrows(IllegalStateException.class, a::start);
    assertEquals("reporting agent scripted already started", e.getMessage());
    ReportingAgent b = agent(new ScriptedStrategy(), DELAY);
    b.close();
    e = assertThrows(IllegalStateException.class, b::start);
    assertEquals("reporting agent scripted is closed", e.getMessage());
  }

  @Test
  void shouldCloseOnceDropThePendingPassAndIgnoreLaterRequests() {
    // page_reporting_unregister(): unpublish, then cancel_delayed_work_sync()
    ScriptedStrategy s = new ScriptedStrategy();
    ReportingAgent a = agent(s, DELAY);
    a.start();
    a.close();
    a.close();
    assertEquals(1, s.closes, "idempotent");
    assertEquals(0, clock.pending());
    clock.advance(DELAY);
    assertEquals(0, s.passes);
    a.request();
    assertEquals(0, clock.pending());
    assertEquals(0, s.passes);
  }

  @Test
  void shouldNotCloseTheStrategyOfAnAgentNeverStarted() {
    ScriptedStrategy s = new ScriptedStrategy();
    agent(s, DELAY).close();
    assertEquals(0, s.closes);
  }

  @Test
  void shouldNotRescheduleAPassThatRequestedAndThenSawClose() {
    ScriptedStrategy s = new ScriptedStrategy();
    ReportingAgent a = agent(s, DELAY);
    s.duringPass =
        ctx -> {
          ctx.request();
          a.close();
        };
    a.start();
    clock.advance(DELAY);
    assertEquals(1, s.passes);
    assertEquals(0, clock.pending());
  }

  @Test
  void shouldRejectBadArguments() {
    ScriptedStrategy s = new ScriptedStrategy();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> new ReportingAgent(s, null, DELAY, clock));
    assertEquals("strategy, sink and scheduler must not be null", e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new ReportingAgent(s, NO_SINK, Duration.ofSeconds(-1), clock));
    assertEquals("delay must be >= 0, got PT-1S", e.getMessage());
  }

  // ---------------------------------------------------------------- a real thread

  @Test
  void shouldRunPassesOnADaemonThreadNamedAfterTheStrategy() throws Exception {
    ScriptedStrategy s = new ScriptedStrategy();
    CountDownLatch ran = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    s.duringPass =
        ctx -> {
          threads.add(Thread.currentThread());
          ran.countDown();
        };
    ReportingAgent a =
        ReportingAgent.onThread(s, NO_SINK, ReportingOptions.defaults().withDelay(Duration.ZERO));
    s.agent = a;
    agents.add(a);
    a.start();
    assertTrue(ran.await(5, TimeUnit.SECONDS));
    a.close();
    assertEquals("scripted", threads.get(0).getName());
    assertTrue(threads.get(0).isDaemon());
    assertEquals("scripted", a.roleName());
  }

  @Test
  void shouldNeverRunTwoPassesAtOnceNorLoseARequestUnderConcurrentRequests() throws Exception {
    // Every request either scheduled a pass or was seen by a pass that had not yet finished:
    // the last pass starts after the last request was made.
    AtomicInteger running = new AtomicInteger();
    AtomicLong requestSeq = new AtomicLong();
    AtomicLong seenAtLastPassStart = new AtomicLong(-1);
    AtomicInteger overlaps = new AtomicInteger();
    ReportingStrategy counting =
        new ReportingStrategy() {
          @Override
          public String name() {
            return "counting";
          }

          @Override
          public void onStart(ReportingContext ctx) {}

          @Override
          public int doWork(ReportingContext ctx) {
            if (running.incrementAndGet() != 1) {
              overlaps.incrementAndGet();
            }
            seenAtLastPassStart.set(requestSeq.get());
            Thread.onSpinWait();
            running.decrementAndGet();
            return 0;
          }

          @Override
          public void onClose() {}
        };
    ExecutorWorkScheduler thread = new ExecutorWorkScheduler("counting", Duration.ofSeconds(2));
    ReportingAgent a = new ReportingAgent(counting, NO_SINK, Duration.ZERO, thread);
    agents.add(a);
    a.start();
    int nThreads = 4;
    CountDownLatch done = new CountDownLatch(nThreads);
    for (int t = 0; t < nThreads; t++) {
      Thread th =
          new Thread(
              () -> {
                for (int i = 0; i < 20_000; i++) {
                  requestSeq.incrementAndGet();
                  a.request();
                }
                done.countDown();
              },
              "requester-" + t);
      th.setDaemon(true);
      th.start();
    }
    assertTrue(done.await(10, TimeUnit.SECONDS));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while ((a.state() != IDLE || seenAtLastPassStart.get() != requestSeq.get())
        && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    assertEquals(IDLE, a.state());
    assertEquals(requestSeq.get(), seenAtLastPassStart.get(), "a pass after the last request");
    assertEquals(0, overlaps.get());
    assertTrue(a.metrics().passes() >= 1);
    assertEquals(a.metrics().scheduled(), a.metrics().passes(), "each scheduled pass ran");
  }

  // ---------------------------------------------------------------- the vCPU (live migration)

  /** A vCPU that records its calls and checks they alternate, starting outside guest mode. */
  private static final class RecordingVcpu implements ReportingAgent.Vcpu {
    final List<String> events;
    boolean inGuest;

    RecordingVcpu(List<String> events) {
      this.events = events;
    }

    @Override
    public void enter() {
      assertTrue(!inGuest, "enter while in guest mode: " + events);
      inGuest = true;
      events.add("enter");
    }

    @Override
    public void exit() {
      assertTrue(inGuest, "exit outside guest mode: " + events);
      inGuest = false;
      events.add("exit");
    }
  }

  @Test
  void passesRunInGuestModeAndEveryReportCallOutsideIt() {
    List<String> events = new ArrayList<>();
    RecordingVcpu vcpu = new RecordingVcpu(events);
    ScriptedStrategy s = new ScriptedStrategy();
    s.duringPass = ctx -> {
      assertTrue(vcpu.inGuest, "the pass runs in guest mode");
      for (int batch = 0; batch < 2; batch++) {
        try {
          ctx.sink().report(new long[] {batch}, new int[] {0}, 1);
        } catch (ReportException e) {
          throw new AssertionError(e);
        }
        assertTrue(vcpu.inGuest, "back in guest mode after the report call");
      }
    };
    ReportSink sink = (pfns, orders, n) -> {
      assertTrue(!vcpu.inGuest, "the report call runs outside guest mode");
      events.add("report " + pfns[0]);
    };
    ReportingAgent a = new ReportingAgent(s, sink, DELAY, clock);
    s.agent = a;
    agents.add(a);
    a.setVcpu(vcpu);
    a.start();
    clock.advance(DELAY);
    assertEquals(List.of("enter", "exit", "report 0", "enter", "exit", "report 1", "enter",
        "exit"), events);
    assertEquals(1, a.metrics().passes());
  }

  @Test
  void aPassThatFailsStillLeavesGuestMode() {
    List<String> events = new ArrayList<>();
    RecordingVcpu vcpu = new RecordingVcpu(events);
    ScriptedStrategy s = new ScriptedStrategy();
    s.duringPass = ctx -> {
      throw new IllegalStateException("strategy bug");
    };
    ReportingAgent a = agent(s, DELAY);
    a.setVcpu(vcpu);
    a.start();
    clock.advance(DELAY);
    assertEquals(List.of("enter", "exit"), events);
    assertEquals(1, a.metrics().passErrors());
  }

  @Test
  void theVcpuIsSetOnceBeforeStart() {
    ScriptedStrategy s = new ScriptedStrategy();
    ReportingAgent a = agent(s, DELAY);
    assertEquals("vcpu must not be null",
        assertThrows(IllegalArgumentException.class, () -> a.setVcpu(null)).getMessage());
    a.start();
    assertEquals("setVcpu: reporting agent scripted already started",
        assertThrows(IllegalStateException.class,
            () -> a.setVcpu(ReportingAgent.Vcpu.NONE)).getMessage());
  }
}
