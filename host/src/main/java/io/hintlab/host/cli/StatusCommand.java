package io.hintlab.host.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.hintlab.host.rpc.HostAddress;
import io.hintlab.host.rpc.HostChannel;
import io.hintlab.proto.v1.GuestStatus;
import io.hintlab.proto.v1.HostControlGrpc;
import io.hintlab.proto.v1.ListGuestsRequest;
import io.hintlab.proto.v1.ListGuestsResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code hintlab host status}: the attached guests of a running host. */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Show the guests of a running host (through its control service).")
final class StatusCommand implements Callable<Integer> {
  @Mixin HostAddressOptions where = new HostAddressOptions();

  @Option(names = "--json", description = "Print the ListGuests answer as JSON.")
  boolean json;

  @Option(names = "--timeout-ms", paramLabel = "MS", defaultValue = "3000",
      description = "Deadline of the call (default: ${DEFAULT-VALUE}).")
  long timeoutMs;

  @Override
  public Integer call() throws Exception {
    HostAddress address = where.address();
    if (address.kind() == HostAddress.Kind.UNIX && !Files.exists(Path.of(address.path()))) {
      throw new IllegalStateException(noHost(address));
    }
    ListGuestsResponse r;
    try (HostChannel ch = HostChannel.open(address)) {
      r = HostControlGrpc.newBlockingStub(ch.channel())
          .withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS)
          .listGuests(ListGuestsRequest.getDefaultInstance());
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.UNAVAILABLE
          || e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED) {
        throw new IllegalStateException(noHost(address) + " (" + e.getStatus().getCode() + ")");
      }
      throw new IllegalStateException("host at " + address + " answered "
          + e.getStatus().getCode() + ": " + e.getStatus().getDescription());
    }
    if (json) {
      System.out.println(JsonOut.write(toJson(address, r)));
      return 0;
    }
    System.out.println("host " + address + ": " + r.getGuestsCount() + " guest(s)");
    if (r.getGuestsCount() > 0) {
      System.out.printf("%-10s %-14s %8s %-20s %9s %9s %9s %10s %8s %9s %6s %-12s%n",
          "GUEST", "NAME", "PID", "MODE", "MEM MiB", "RSS MiB", "PEAK MiB", "DISCARDED",
          "REPORTS", "REFAULTS", "RACES", "HINTING");
      for (GuestStatus g : r.getGuestsList()) {
        System.out.printf("%-10s %-14s %8d %-20s %9d %9.1f %9.1f %10d %8d %9d %6d %-12s%s%n",
            g.getGuestId(), g.getGuestName(), g.getPid(), g.getHostMode(),
            g.getMemoryBytes() >> 20, g.getRssBytes() / 1048576.0,
            g.getRssPeakBytes() / 1048576.0, g.getDiscardedPages(),
            g.getCountersOrDefault("reports", 0), g.getCountersOrDefault("refaults", 0),
            g.getCountersOrDefault("races", 0), g.getHintingStatus(),
            g.getPaused() ? " PAUSED" : "");
      }
    }
    return 0;
  }

  private static Map<String, Object> toJson(HostAddress address, ListGuestsResponse r) {
    List<Object> guests = new ArrayList<>();
    for (GuestStatus g : r.getGuestsList()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("guest_id", g.getGuestId());
      m.put("guest_name", g.getGuestName());
      m.put("pid", g.getPid());
      m.put("memory_bytes", g.getMemoryBytes());
      m.put("negotiated_features", g.getNegotiatedFeatures());
      m.put("host_mode", g.getHostMode());
      m.put("rss_bytes", g.getRssBytes());
      m.put("rss_peak_bytes", g.getRssPeakBytes());
      m.put("discarded_pages", g.getDiscardedPages());
      m.put("paused", g.getPaused());
      m.put("hinting_status", g.getHintingStatus());
      m.put("num_pages", Integer.toUnsignedLong(g.getConfig().getNumPages()));
      m.put("actual", Integer.toUnsignedLong(g.getConfig().getActual()));
      m.put("free_page_hint_cmd_id", Integer.toUnsignedLong(g.getConfig().getFreePageHintCmdId()));
      m.put("poison_val", Integer.toUnsignedLong(g.getConfig().getPoisonVal()));
      m.put("counters", new TreeMap<>(g.getCountersMap()));
      guests.add(m);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("host", address.toString());
    out.put("guests", guests);
    return out;
  }

  private static String noHost(HostAddress a) {
    return "no host is running at " + a + "; start one with ./hintlab host serve";
  }
}
