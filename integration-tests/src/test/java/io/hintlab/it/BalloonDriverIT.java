package io.hintlab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.cli.GuestMain;
import io.hintlab.guest.driver.BalloonDriver;
import io.hintlab.guest.driver.DriverMetrics;
import io.hintlab.guest.driver.DriverOptions;
import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.ram.GuestRam;
import io.hintlab.guest.ram.PageCheck;
import io.hintlab.guest.run.GuestRun;
import io.hintlab.guest.transport.AttachSpec;
import io.hintlab.guest.transport.CallDeadlines;
import io.hintlab.guest.transport.DeviceClient;
import io.hintlab.guest.transport.DeviceSession;
import io.hintlab.guest.transport.DriverWishes;
import io.hintlab.guest.transport.GuestAddress;
import io.hintlab.guest.transport.GuestChannel;
import io.hintlab.host.rpc.HostAddress;
import io.hintlab.host.rpc.HostChannel;
import io.hintlab.host.rpc.HostConfig;
import io.hintlab.host.rpc.HostServer;
import io.hintlab.proto.v1.GuestStatus;
import io.hintlab.proto.v1.HostControlGrpc;
import io.hintlab.proto.v1.ListGuestsRequest;
import io.hintlab.proto.v1.ListGuestsResponse;
import io.hintlab.proto.v1.SetBalloonTargetRequest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The balloon driver against the real host service (a HostServer in this JVM on a Unix socket):
 * the host's control service sets the balloon target, the driver inflates, the host counts the
 * pages as ballooned and discards them (its RAM file shrinks), then target 0 and every page comes
 * back. Once with the driver alone over a mapped RAM, once through {@code guest run} with the
 * {@code balloon} workload, whose working set makes room for the balloon and grows back after it.
 */
class BalloonDriverIT {
  private static final long MEMORY = 128L << 20;
  private static final int PAGE = 4096;
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path dir;

  @Test
  void theHostsBalloonAndRamFileFollowTheTargetAndThePagesComeBack() throws Exception {
    HostConfig config = HostConfig.defaults().withStateBase(dir.resolve("state"));
    Path socket = dir.resolve("sock").resolve("host.sock");
    MmConfig cfg = MmConfig.builder().memory(MEMORY).nrCpus(2).build();
    PageAllocator pa = new PageAllocator(cfg);
    try (HostServer host = HostServer.start(config, HostAddress.unix(socket));
        HostChannel control = HostChannel.open(host.address());
        GuestChannel ch = GuestChannel.open(GuestAddress.unix(socket));
        DeviceClient client = new DeviceClient(ch.channel(), CallDeadlines.defaults())) {
      DeviceSession s = client.attach(new AttachSpec("balloon-it", GuestRun.ramBytes(cfg), PAGE,
          cfg.geometry().maxPageOrder(), DriverWishes.linuxDefaults()));
      try (GuestRam ram = GuestRam.map(s.ramPath(), s.dirtyLogPath(), s.memoryBytes(),
          s.pageSize(), GuestRam.Options.DEFAULTS)) {
        touchEveryFreePage(pa, ram);
        pa.drainAllPages(null);
        long free = pa.freePages();
        BalloonDriver d = new BalloonDriver(pa, client,
            DriverOptions.defaults().withStatsInterval(Duration.ofMillis(100)));
        d.start();
        GuestStatus g = awaitGuest(control, st -> true);
        long rssBefore = g.getRssBytes();
        int target = (int) (free / 2);

        setTarget(control, g.getGuestId(), target);
        GuestStatus inflated = awaitGuest(control,
            st -> ballooned(st) == target && st.getConfig().getActual() == target);
        String ctx = "target " + target + ", driver " + d.metrics() + ", host " + inflated;
        assertTrue(rssBefore - inflated.getRssBytes() >= (long) target * PAGE * 9 / 10,
            ctx + ": the host discarded the balloon, rss before " + rssBefore);
        assertEquals(target, d.metrics().balloonPages(), ctx);
        assertTrue(inflated.getCountersOrDefault("stats_updates", 0) > 0, ctx);

        setTarget(control, g.getGuestId(), 0);
        GuestStatus deflated = awaitGuest(control, st -> ballooned(st) == 0);
        assertTrue(awaitDriver(d, m -> m.balloonPages() == 0 && m.deflatedPages() == target),
            "driver " + d.metrics());
        assertEquals(target, deflated.getCountersOrDefault("deflated_pages", -1));
        d.stop();
        DriverMetrics m = d.metrics();
        assertEquals(0, m.failures(), "" + m);
        assertEquals(free, freePages(pa), "every page is back in the guest's buddy");
        InvariantChecker.check(pa);
        client.detach();
        System.out.printf("balloon driver IT: %d pages ballooned, host RAM file %d -> %d bytes,"
            + " %d stats buffers%n", target, rssBefore, inflated.getRssBytes(), m.statsSent());
      }
    }
  }

  @Test
  void guestRunFollowsTheHostsBalloonTargetWithTheBalloonWorkload() throws Exception {
    HostConfig config = HostConfig.defaults().withStateBase(dir.resolve("state"));
    Path socket = dir.resolve("sock").resolve("host.sock");
    String[] args = {"run", "--host", "unix:" + socket, "--memory", "128M", "--workload",
        "balloon", "--strategy", "page-reporting", "--delay", "100ms", "--seconds", "12",
        "--stats-interval", "200ms", "--seed", "5", "--exit-on-host-loss", "--json"};
    int target = (int) (MEMORY / PAGE / 4);
    String[] result = new String[3];
    try (HostServer host = HostServer.start(config, HostAddress.unix(socket));
        HostChannel control = HostChannel.open(host.address())) {
      Thread guest = Thread.ofPlatform().name("guest-run-it").start(() -> runGuest(args, result));
      GuestStatus g = awaitGuest(control, st -> true);
      setTarget(control, g.getGuestId(), target);
      GuestStatus in = awaitGuest(control, st -> ballooned(st) == target);
      setTarget(control, g.getGuestId(), 0);
      GuestStatus out = awaitGuest(control, st -> ballooned(st) == 0);
      assertTrue(guest.isAlive(), "both targets were reached while the guest ran");
      guest.join(WAIT);
      assertFalse(guest.isAlive(), "the guest run ends, bounded");
      String json = result[1];
      String ctx = "exit " + result[0] + "\nstdout: " + json + "\nstderr: " + result[2]
          + "\nhost at target: " + in + "\nhost at 0: " + out;
      assertEquals("0", result[0], ctx);
      assertTrue(field(json, "inflated_pages") >= target, ctx);
      assertEquals(field(json, "inflated_pages"), field(json, "deflated_pages"), ctx);
      assertEquals(0, field(json, "balloon_pages"), ctx);
      assertTrue(field(json, "stats_sent") > 0, ctx);
      assertEquals(0, field(json, "lost_writes"), ctx);
      assertEquals(0, field(json, "corrupt_pages"), ctx);
      assertEquals(0, field(json, "invariant_violations"), ctx);
      assertTrue(json.contains("\"detached\": true"), ctx);
      assertTrue(host.registry().sessions().isEmpty(), ctx);
    }
  }

  /** The guest allocates, writes and frees all its memory, so the RAM file is allocated. */
  private static void touchEveryFreePage(PageAllocator pa, GuestRam ram) {
    List<Integer> blocks = new ArrayList<>();
    int order = 9;
    for (int pfn; (pfn = pa.allocPages(0, order, Gfp.GFP_HIGHUSER_MOVABLE | Gfp.__GFP_NORETRY))
        >= 0; ) {
      blocks.add(pfn);
      for (int i = 0; i < 1 << order; i++) {
        ram.writePage(pfn + i, 1, 1);
      }
    }
    for (int pfn : blocks) {
      for (int i = 0; i < 1 << order; i++) {
        assertEquals(PageCheck.OK, ram.verifyPage(pfn + i, 1, 1));
      }
      pa.freePages(0, pfn, order);
    }
  }

  private static long freePages(PageAllocator pa) {
    pa.drainAllPages(null);
    return pa.freePages();
  }

  private static long ballooned(GuestStatus st) {
    return st.getCountersOrDefault("ballooned_pages", -1);
  }

  private static void setTarget(HostChannel control, String guestId, int pages) {
    HostControlGrpc.newBlockingStub(control.channel()).withDeadlineAfter(5, TimeUnit.SECONDS)
        .setBalloonTarget(SetBalloonTargetRequest.newBuilder().setGuestId(guestId)
            .setNumPages(pages).build());
  }

  /**
   * Polls the host's control service (it has no push for this) every 20 ms until the one guest
   * matches, for at most {@link #WAIT}.
   */
  private static GuestStatus awaitGuest(HostChannel control, Predicate<GuestStatus> cond)
      throws InterruptedException {
    long end = System.nanoTime() + WAIT.toNanos();
    Optional<GuestStatus> last = Optional.empty();
    while (System.nanoTime() < end) {
      ListGuestsResponse r = HostControlGrpc.newBlockingStub(control.channel())
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .listGuests(ListGuestsRequest.getDefaultInstance());
      if (r.getGuestsCount() == 1) {
        last = Optional.of(r.getGuests(0));
        if (cond.test(last.get())) {
          return last.get();
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("the host never showed the guest as expected; last: " + last);
  }

  /** Polls the driver's counters every 20 ms for at most {@link #WAIT}. */
  private static boolean awaitDriver(BalloonDriver d, Predicate<DriverMetrics> cond)
      throws InterruptedException {
    long end = System.nanoTime() + WAIT.toNanos();
    while (!cond.test(d.metrics())) {
      if (System.nanoTime() > end) {
        return false;
      }
      Thread.sleep(20);
    }
    return true;
  }

  private static void runGuest(String[] args, String[] result) {
    CommandLine cl = GuestMain.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    result[1] = out.toString();
    result[2] = err.toString();
    result[0] = Integer.toString(code);
  }

  private static long field(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\": (-?\\d+)").matcher(json);
    assertTrue(m.find(), key + " in " + json);
    return Long.parseLong(m.group(1));
  }
}
