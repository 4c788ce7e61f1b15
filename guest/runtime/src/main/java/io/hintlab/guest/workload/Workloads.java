package io.hintlab.guest.workload;

import io.hintlab.guest.mm.PageAllocator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The workload registry: names, one-line descriptions, parameters, and a factory. */
public final class Workloads {
  /** Creates a workload from its allocator, seed and configuration. */
  private interface Factory {
    Workload create(PageAllocator pa, long seed, WorkloadConfig config);
  }

  private record Entry(String description, List<WorkloadParam> params, boolean needsTrace,
      Factory factory) {}

  private static final Map<String, Entry> REGISTRY = new TreeMap<>(Map.of(
      FragmentWorkload.NAME, new Entry(
          "fill 85% of free memory with order 0-3 mixed-type blocks, then free a random half; "
              + "ops = fill allocations (default: to 85%)",
          List.of(), false, FragmentWorkload::new),
      MixedWorkload.NAME, new Entry(
          "steady-state random alloc/free of orders 0-10 (skewed low) and mixed types around "
              + "half of memory; ops = steps (default: " + MixedWorkload.DEFAULT_OPS + ")",
          List.of(), false, MixedWorkload::new),
      IdleWorkload.NAME, new Entry(
          "allocate a working set of 30% of free memory, then idle "
              + IdleWorkload.IDLE_TICKS + " vmstat ticks; ops = working-set allocations "
              + "(default: to 30%)",
          List.of(), false, IdleWorkload::new),
      ChurnWorkload.NAME, new Entry(
          "steady alloc/free of mixed orders (0-5, some 9) and types with page writes, working "
              + "set bounded by bytes; ops = steps (default: " + ChurnWorkload.DEFAULT_OPS + ")",
          List.of(ChurnWorkload.BYTES), false, ChurnWorkload::new),
      MemhogWorkload.NAME, new Entry(
          "allocate, touch and free bytes of order-0 movable pages, over and over; ops = cycles "
              + "(default: " + MemhogWorkload.DEFAULT_OPS + ")",
          List.of(MemhogWorkload.BYTES), false, MemhogWorkload::new),
      ThpWorkload.NAME, new Entry(
          "order-9 movable THP attempts (GFP_TRANSHUGE_LIGHT, one in four GFP_HIGHUSER_MOVABLE) "
              + "held for a random lifetime; ops = attempts (default: "
              + ThpWorkload.DEFAULT_OPS + ")",
          List.of(ThpWorkload.LIFETIME), false, ThpWorkload::new),
      ContigWorkload.NAME, new Entry(
          "alloc_contig_pages() of size every so many steps of movable background churn, each "
              + "range held a while; ops = background steps (default: "
              + ContigWorkload.DEFAULT_OPS + ")",
          List.of(ContigWorkload.SIZE, ContigWorkload.EVERY, ContigWorkload.HOLD), false,
          ContigWorkload::new),
      BalloonWorkload.NAME, new Entry(
          "follow the balloon: keep headroom free, shrinking the working set as the balloon "
              + "inflates and growing it (up to bytes) as it deflates; ops = steps (default: "
              + BalloonWorkload.DEFAULT_OPS + ")",
          List.of(BalloonWorkload.HEADROOM, BalloonWorkload.BYTES), false,
          BalloonWorkload::new),
      ReplayWorkload.NAME, new Entry(
          "replay an ftrace file of mm_page_alloc/mm_page_free events, trace allocations mapped "
              + "to the model's; ops = trace events (default: the rest of the trace)",
          List.of(), true, ReplayWorkload::new)));

  private Workloads() {}

  /** The registered names, sorted. */
  public static List<String> names() {
    return List.copyOf(REGISTRY.keySet());
  }

  /**
   * A one-line description of a workload, saying what one op is.
   *
   * @throws IllegalArgumentException for an unknown name, listing the valid ones
   */
  public static String describe(String name) {
    return entry(name).description();
  }

  /**
   * The parameters a workload accepts in {@link WorkloadConfig#args}, empty for none.
   *
   * @throws IllegalArgumentException for an unknown name, listing the valid ones
   */
  public static List<WorkloadParam> params(String name) {
    return entry(name).params();
  }

  /**
   * Whether the workload replays a trace ({@link WorkloadConfig#trace} must be set).
   *
   * @throws IllegalArgumentException for an unknown name, listing the valid ones
   */
  public static boolean needsTrace(String name) {
    return entry(name).needsTrace();
  }

  /**
   * A new workload driving {@code pa} with no arguments and no page writer.
   *
   * @throws IllegalArgumentException for an unknown name, listing the valid ones, or a workload
   *     that needs a trace
   */
  public static Workload create(String name, PageAllocator pa, long seed) {
    return create(name, pa, seed, WorkloadConfig.DEFAULT);
  }

  /**
   * A new workload driving {@code pa}.
   *
   * @throws IllegalArgumentException for an unknown name (listing the valid ones), an argument
   *     the workload does not take (listing the ones it does), a bad argument value (naming the
   *     argument), a trace given to a workload that takes none, or none to {@code replay}
   */
  public static Workload create(String name, PageAllocator pa, long seed, WorkloadConfig config) {
    Entry e = entry(name);
    if (config == null) {
      config = WorkloadConfig.DEFAULT;
    }
    for (String key : config.args().keySet()) {
      if (e.params().stream().noneMatch(p -> p.key().equals(key))) {
        throw new IllegalArgumentException("workload " + name + " has no argument '" + key
            + "'" + (e.params().isEmpty() ? " (it takes none)" : ": expected "
                + String.join(", ", e.params().stream().map(WorkloadParam::key).toList())));
      }
    }
    if (e.needsTrace() && config.trace() == null) {
      throw new IllegalArgumentException("workload " + name + " needs a trace");
    }
    if (!e.needsTrace() && config.trace() != null) {
      throw new IllegalArgumentException("workload " + name + " takes no trace");
    }
    return e.factory().create(pa, seed, config);
  }

  private static Entry entry(String name) {
    Entry e = name == null ? null : REGISTRY.get(name);
    if (e == null) {
      throw new IllegalArgumentException(
          "unknown workload '" + name + "': expected one of " + String.join(", ", names()));
    }
    return e;
  }
}
