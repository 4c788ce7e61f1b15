package io.hintlab.guest.cli;

import io.hintlab.guest.mm.CompactionPolicy;
import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.view.ProcView;
import io.hintlab.guest.sim.SimParams;
import io.hintlab.guest.sim.Simulation;
import io.hintlab.guest.workload.Workload;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code hintlab guest sim}: the allocator model alone under a workload, with compaction. */
@Command(name = "sim", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
      "Run the allocator model alone (no host): a workload's default cycles over and over on a "
          + "simulated clock (one workload step = 1 ms), with order-9 THP attempts, optional "
          + "alloc_contig_pages() attempts, kcompactd every 500 ms and vmstat/kswapd every "
          + "second, under a compaction policy. Prints the counters (and --show views) at the "
          + "end; the invariant checker runs at the end (and every --check-every steps)."})
final class SimCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Mixin ModelOptions model;

  @Option(names = "--workload", paramLabel = "NAME", required = true,
      description = "The workload: churn, contig, fragment, idle, memhog, mixed, replay or "
          + "thp.")
  String workload;

  @Mixin WorkloadOptions.Params workloadParams;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
      description = "Seed of the workload (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--seconds", paramLabel = "S",
      description = "Simulated seconds to run (1000 workload steps each).")
  Long seconds;

  @Option(names = "--ops", paramLabel = "N",
      description = "Workload steps (allocator calls) to run.")
  Long ops;

  @Option(names = "--compaction", paramLabel = "POLICY", defaultValue = "off",
      description = "off, direct (direct compaction in the slow path), proactive (kcompactd's "
          + "fragmentation-score compaction), kernel (direct + kcompactd woken by kswapd + "
          + "proactive), coalesce (the 2005 coalescing defragmenter in the slow path) "
          + "(default: ${DEFAULT-VALUE}).")
  String compaction;

  @Option(names = "--thp-every", paramLabel = "N",
      defaultValue = "" + SimParams.DEFAULT_THP_EVERY,
      description = "An order-9 THP attempt every N steps (one a simulated second); 0: none "
          + "(default: ${DEFAULT-VALUE}).")
  int thpEvery;

  @Option(names = "--thp-lifetime", paramLabel = "S",
      defaultValue = "" + SimParams.DEFAULT_THP_LIFETIME / 1000,
      description = "Simulated seconds a THP is held before it is freed; 0: until the end "
          + "(default: ${DEFAULT-VALUE}).")
  int thpLifetime;

  @Option(names = "--thp-gfp", paramLabel = "GFP", defaultValue = "movable",
      description = "GFP of the THP attempts: movable (GFP_HIGHUSER_MOVABLE: may compact and "
          + "wake kswapd), transhuge (GFP_TRANSHUGE: may compact), light (GFP_TRANSHUGE_LIGHT: "
          + "never compacts) (default: ${DEFAULT-VALUE}).")
  String thpGfp;

  @Option(names = "--contig-every", paramLabel = "N", defaultValue = "0",
      description = "An alloc_contig_pages() attempt every N steps (the previous range is "
          + "freed first); 0: none.")
  int contigEvery;

  @Option(names = "--contig-pages", paramLabel = "N", defaultValue = "512",
      description = "Pages per contiguous allocation (default: ${DEFAULT-VALUE}).")
  int contigPages;

  @Option(names = "--check-every", paramLabel = "N", defaultValue = "0",
      description = "Also run the invariant checker every N steps (it costs a pass over "
          + "memory); 0: only at the end.")
  int checkEvery;

  @Option(names = "--show", paramLabel = "VIEWS",
      description = "Views to print at the end: buddyinfo, pagetypeinfo, zoneinfo, vmstat, "
          + "extfrag, unusable.")
  String show;

  @Option(names = "--json", description = "Print one JSON object (views as strings under "
      + "\"views\").")
  boolean json;

  @Override
  public Integer call() throws Exception {
    SimParams params = params();
    List<ProcView> views = show == null ? List.of() : parseViews();
    model.check();
    PageAllocator pa = model.build();
    Workload w = workloadParams.create(workload, pa, seed);
    Map<String, Object> result = new Simulation(pa, params, w).run();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Map<String, Object> all = new LinkedHashMap<>();
      all.put("model", model.describe());
      all.putAll(result);
      if (!views.isEmpty()) {
        Map<String, Object> texts = new LinkedHashMap<>();
        for (ProcView v : views) {
          texts.put(v.viewName(), v.render(pa));
        }
        all.put("views", texts);
      }
      out.println(JsonOut.write(all));
    } else {
      out.println("model " + model.describe());
      result.forEach((k, v) -> out.println(k + " " + v));
      for (ProcView v : views) {
        out.print("\n==> " + v.kernelPath() + " <==\n" + v.render(pa));
      }
    }
    out.flush();
    return (Long) result.get("invariant_violations") == 0 ? 0 : 1;
  }

  private List<ProcView> parseViews() {
    try {
      return ProcView.parseList(show);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--show: " + e.getMessage(), e);
    }
  }

  private SimParams params() {
    WorkloadOptions.checkName(workload);
    workloadParams.check(workload);
    if ((seconds == null) == (ops == null)) {
      throw new IllegalArgumentException("give exactly one of --seconds and --ops");
    }
    long steps = ops != null ? ops : seconds * 1000;
    if (steps <= 0 || (seconds != null && seconds > Long.MAX_VALUE / 1000)) {
      throw new IllegalArgumentException(
          (ops != null ? "--ops" : "--seconds") + " must be > 0");
    }
    CompactionPolicy policy;
    try {
      policy = CompactionPolicy.byName(compaction);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--compaction: " + e.getMessage(), e);
    }
    if (thpEvery < 0 || contigEvery < 0 || checkEvery < 0 || thpLifetime < 0) {
      throw new IllegalArgumentException(
          "--thp-every, --thp-lifetime, --contig-every and --check-every must be >= 0");
    }
    int lifetimeSteps = thpLifetime == 0 || thpLifetime > Integer.MAX_VALUE / 1000
        ? Integer.MAX_VALUE : thpLifetime * 1000;
    if (contigPages < 1) {
      throw new IllegalArgumentException("--contig-pages must be >= 1, got " + contigPages);
    }
    return new SimParams(workload, seed, steps, policy, thpEvery, gfp(),
        lifetimeSteps, contigEvery, contigPages, checkEvery);
  }

  private int gfp() {
    return switch (thpGfp.toLowerCase(Locale.ROOT)) {
      case "movable" -> Gfp.GFP_HIGHUSER_MOVABLE;
      case "transhuge" -> SimParams.GFP_TRANSHUGE;
      case "light" -> Gfp.GFP_TRANSHUGE_LIGHT;
      default -> throw new IllegalArgumentException(
          "--thp-gfp: expected movable, transhuge or light, got '" + thpGfp + "'");
    };
  }
}
