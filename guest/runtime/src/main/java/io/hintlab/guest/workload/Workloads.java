package io.hintlab.guest.workload;

import io.hintlab.guest.mm.PageAllocator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiFunction;

/** The workload registry: names, one-line descriptions, and a factory. */
public final class Workloads {
  private record Entry(String description, BiFunction<PageAllocator, Long, Workload> factory) {}

  private static final Map<String, Entry> REGISTRY = new TreeMap<>(Map.of(
      FragmentWorkload.NAME, new Entry(
          "fill 85% of free memory with order 0-3 mixed-type blocks, then free a random half; "
              + "ops = fill allocations (default: to 85%)",
          FragmentWorkload::new),
      MixedWorkload.NAME, new Entry(
          "steady-state random alloc/free of orders 0-10 (skewed low) and mixed types around "
              + "half of memory; ops = steps (default: " + MixedWorkload.DEFAULT_OPS + ")",
          MixedWorkload::new),
      IdleWorkload.NAME, new Entry(
          "allocate a working set of 30% of free memory, then idle "
              + IdleWorkload.IDLE_TICKS + " vmstat ticks; ops = working-set allocations "
              + "(default: to 30%)",
          IdleWorkload::new)));

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
   * A new workload driving {@code pa}.
   *
   * @throws IllegalArgumentException for an unknown name, listing the valid ones
   */
  public static Workload create(String name, PageAllocator pa, long seed) {
    return entry(name).factory().apply(pa, seed);
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
