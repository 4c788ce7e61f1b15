package io.hintlab.host.rpc;

import io.hintlab.host.device.BalloonDevice;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Prometheus view of every guest's counters: {@code hintlab_<counter>_total{guest="..."}} for the
 * monotonic ones, {@code hintlab_<name>{guest="..."}} gauges for the levels that may fall
 * ({@link BalloonDevice#LEVEL_NAMES}: a counter must never decrease, or {@code rate()} reads a
 * fall as a reset), and {@code hintlab_rss_bytes{guest="..."}}. Meters appear at attach and go at
 * detach.
 */
public final class HostMetrics {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<String, List<Meter>> meters = new ConcurrentHashMap<>();

  /** Follows the sessions of {@code sessions}. */
  public HostMetrics(SessionRegistry sessions) {
    sessions.addAttachListener(this::register);
    sessions.addDetachListener(s -> unregister(s.guestId()));
  }

  private void register(Session s) {
    BalloonDevice d = s.device();
    List<Meter> list = new CopyOnWriteArrayList<>();
    for (String name : d.counters().keySet()) {
      if (BalloonDevice.LEVEL_NAMES.contains(name)) {
        list.add(Gauge.builder("hintlab_" + name, d,
                dev -> dev.counters().getOrDefault(name, 0L))
            .tag("guest", d.guestId())
            .register(registry));
        continue;
      }
      list.add(FunctionCounter.builder("hintlab_" + name, d,
              dev -> dev.counters().getOrDefault(name, 0L))
          .tag("guest", d.guestId())
          .register(registry));
    }
    list.add(Gauge.builder("hintlab_rss_bytes", d, HostMetrics::rss)
        .tag("guest", d.guestId())
        .baseUnit("bytes")
        .register(registry));
    meters.put(d.guestId(), list);
  }

  private static double rss(BalloonDevice d) {
    try {
      return d.memory().allocatedBytes();
    } catch (IOException | IllegalStateException e) {
      return Double.NaN;
    }
  }

  private void unregister(String guestId) {
    List<Meter> list = meters.remove(guestId);
    if (list != null) {
      list.forEach(registry::remove);
    }
  }

  /** The Prometheus text exposition of every meter. */
  public String scrape() {
    return registry.scrape();
  }
}
