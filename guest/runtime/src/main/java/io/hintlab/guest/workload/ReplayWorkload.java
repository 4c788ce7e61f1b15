package io.hintlab.guest.workload;

import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.MigrateType;
import io.hintlab.guest.mm.PageAllocator;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code replay}: replays an ftrace recording of {@code mm_page_alloc} and {@code mm_page_free}
 * events ({@link FtraceParser}) through the allocator, in file order, each on the trace's cpu
 * (modulo the model's cpus). The model cannot be asked for a given pfn, so a trace allocation is
 * known by its identity (trace pfn, order) and mapped to whatever block the model returned; an
 * {@code mm_page_free} of the same identity frees that block. The GFP flags come from the
 * allocation's migratetype (0 unmovable: GFP_KERNEL, 1 movable: GFP_HIGHUSER_MOVABLE, 2
 * reclaimable: GFP_KERNEL_RECLAIMABLE; anything else is treated as unmovable).
 *
 * <p>The result counts, besides allocations and frees: {@code unmatched_frees} (frees of a block
 * the replay did not allocate: allocated before the recording started, or an allocation the model
 * refused), {@code duplicate_allocs} (an allocation of an identity that is still mapped: the
 * earlier block stays held, unmapped, until {@link #releaseAll}), {@code orders_too_large}
 * (allocations above the model's largest order, not attempted), and in the run that starts the
 * trace {@code trace_failed_allocs} (allocations the traced kernel itself failed, pfn 0).
 * Allocations the model refuses are the result's failed allocations. One op is one trace event;
 * ops 0 replays the rest of the trace, and a run after the end does nothing. The seed is not used:
 * the trace decides everything.
 */
public final class ReplayWorkload extends BaseWorkload {
  /** Registry name. */
  public static final String NAME = "replay";

  private final FtraceParser.Trace trace;
  private final int maxOrder;
  private final int nrCpus;
  /** Trace identity (pfn << 6 | order) to the handle of the model's block. */
  private final Map<Long, Integer> mapped = new HashMap<>();
  private int cursor;
  private long unmatchedFrees;
  private long duplicateAllocs;
  private long tooLarge;
  private boolean startedTrace;

  ReplayWorkload(PageAllocator pa, long seed, WorkloadConfig config) {
    super(pa, seed, config.writer());
    if (config.trace() == null) {
      throw new IllegalArgumentException("workload replay needs a trace");
    }
    this.trace = config.trace();
    this.maxOrder = pa.geometry().maxPageOrder();
    this.nrCpus = pa.nrCpus();
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  void resetCounters() {
    unmatchedFrees = 0;
    duplicateAllocs = 0;
    tooLarge = 0;
    startedTrace = cursor == 0;
  }

  @Override
  void putCounters(Map<String, Long> out) {
    out.put("trace_events_left", (long) (trace.size() - cursor));
    out.put("unmatched_frees", unmatchedFrees);
    out.put("duplicate_allocs", duplicateAllocs);
    out.put("orders_too_large", tooLarge);
    out.put("trace_failed_allocs", startedTrace ? (long) trace.failedAllocs() : 0L);
  }

  @Override
  void releaseExtra() {
    mapped.clear(); // every mapped block was in live, and releaseAll freed it
  }

  @Override
  void execute(long ops) {
    long end = ops == 0 ? trace.size() : Math.min(trace.size(), cursor + ops);
    while (cursor < end) {
      int e = cursor++;
      int cpu = Math.floorMod(trace.cpu()[e], nrCpus);
      int order = trace.order()[e];
      long identity = trace.pfn()[e] << 6 | order;
      if (trace.kind()[e] == FtraceParser.ALLOC) {
        if (order > maxOrder) {
          tooLarge++;
          continue;
        }
        if (mapped.remove(identity) != null) {
          duplicateAllocs++;
        }
        if (allocOn(cpu, order, gfp(trace.migratetype()[e]))) {
          mapped.put(identity, live.handle(live.size() - 1));
        }
      } else {
        Integer h = mapped.remove(identity);
        if (h == null) {
          unmatchedFrees++;
        } else {
          freeAtOn(cpu, live.indexOf(h));
        }
      }
    }
  }

  private static int gfp(int migratetype) {
    return switch (migratetype) {
      case MigrateType.MOVABLE -> Gfp.GFP_HIGHUSER_MOVABLE;
      case MigrateType.RECLAIMABLE -> Gfp.GFP_KERNEL_RECLAIMABLE;
      default -> Gfp.GFP_KERNEL;
    };
  }
}
