package io.hintlab.guest.sim;

import io.hintlab.guest.mm.Coalescer;
import io.hintlab.guest.mm.Compaction;
import io.hintlab.guest.mm.CompactionPolicy;
import io.hintlab.guest.mm.ContigAlloc;
import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.Kcompactd;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.PageIsolation;
import io.hintlab.guest.mm.VmEvent;
import io.hintlab.guest.mm.Zone;
import io.hintlab.guest.mm.ZoneType;
import io.hintlab.guest.workload.Workload;
import io.hintlab.guest.workload.WorkloadResult;
import io.hintlab.guest.workload.Workloads;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Drives one allocator model with a workload on a simulated clock (one workload step, i.e. one
 * allocator call, is one millisecond), interleaving after each step what else happens in a guest:
 * THP allocation attempts (held for their lifetime), alloc_contig_pages() attempts (each range
 * held until the next attempt; contig_alloc_success/fail count these attempts, each of which may
 * try several ranges), kcompactd's 500 ms tick, and once a second the vmstat worker's
 * pcp decay and kswapd going back to sleep. The workload runs its default cycles over and over
 * until the step budget is spent, stopping mid-cycle.
 *
 * <p>Not thread-safe; deterministic for a given model configuration and parameters.
 */
public final class Simulation {
  /** kcompactd's tick: HPAGE_FRAG_CHECK_INTERVAL_MSEC. */
  static final int KCOMPACTD_STEPS = Kcompactd.HPAGE_FRAG_CHECK_INTERVAL_MSEC;
  /** The vmstat worker's and our kswapd's period: one second. */
  static final int VMSTAT_STEPS = 1000;

  /** Thrown by the step hook when the budget is spent, to leave the workload's cycle. */
  private static final class BudgetSpent extends RuntimeException {
    BudgetSpent() {
      super("step budget spent", null, false, false);
    }
  }

  private final PageAllocator pa;
  private final SimParams p;
  private final Workload workload;
  private final ThpHolder thps;
  private final PageIsolation isolation;
  private final ContigAlloc contig;
  private long steps;
  private long thpSuccess;
  private long thpFail;
  private int contigHeld = -1;
  private long contigSuccess;
  private long contigFail;
  private long workloadRuns;
  private long violations;
  private String firstViolation = "";

  /** A simulation of p on pa (a freshly built model), its workload made from its name and seed. */
  public Simulation(PageAllocator pa, SimParams p) {
    this(pa, p, null);
  }

  /**
   * A simulation of p on pa (a freshly built model) driving a workload created on pa with its own
   * configuration (arguments, trace, page writer); null creates it from p's name and seed.
   *
   * @throws IllegalArgumentException if the workload drives another allocator
   */
  public Simulation(PageAllocator pa, SimParams p, Workload workload) {
    if (workload != null && workload.allocator() != pa) {
      throw new IllegalArgumentException("the workload drives another allocator");
    }
    this.pa = pa;
    this.p = p;
    this.workload = workload;
    this.thps = new ThpHolder(pa);
    this.isolation = new PageIsolation(pa);
    this.contig = new ContigAlloc(pa, isolation);
  }

  /**
   * Runs the budget; everything allocated stays allocated (so views show the end state).
   *
   * @return the counters, snake_case keys in a stable order
   */
  public Map<String, Object> run() {
    pa.setCompaction(p.policy());
    Workload w = workload != null ? workload : Workloads.create(p.workload(), pa, p.seed());
    w.setStepHook(this::afterStep);
    try {
      while (true) {
        WorkloadResult r = w.run(0);
        workloadRuns++;
        if (r.steps() == 0) {
          break; // nothing left to do: the budget cannot be spent
        }
      }
    } catch (BudgetSpent e) {
      // the budget ends the run
    } finally {
      w.setStepHook(null);
    }
    check();
    return result(w);
  }

  private void afterStep() {
    steps++;
    if (p.thpEvery() > 0 && steps % p.thpEvery() == 0) {
      if (thps.tryAlloc(0, pa.geometry().pageblockOrder(), p.thpGfp(),
          steps + p.thpLifetimeSteps())) {
        thpSuccess++;
      } else {
        thpFail++;
      }
    }
    if (p.contigEvery() > 0 && steps % p.contigEvery() == 0) {
      contigAttempt();
    }
    if (steps % KCOMPACTD_STEPS == 0) {
      pa.compaction().kcompactd().tick(0);
    }
    if (steps % VMSTAT_STEPS == 0) {
      pa.refreshCpuVmStats();
      pa.kswapdBalance();
      thps.expire(0, steps);
    }
    if (p.checkEvery() > 0 && steps % p.checkEvery() == 0) {
      check();
    }
    if (steps >= p.steps()) {
      throw new BudgetSpent();
    }
  }

  /** Frees the range held since the last attempt, then tries alloc_contig_pages(). */
  private void contigAttempt() {
    if (contigHeld >= 0) {
      contig.freeContigRange(0, contigHeld, p.contigPages());
      contigHeld = -1;
    }
    contigHeld = contig.allocContigPages(0, p.contigPages(), ZoneType.MOVABLE);
    if (contigHeld >= 0) {
      contigSuccess++;
    } else {
      contigFail++;
    }
  }

  private void check() {
    List<String> v = InvariantChecker.violations(pa);
    if (!v.isEmpty()) {
      if (violations == 0) {
        firstViolation = "step " + steps + ": " + v.get(0);
      }
      violations += v.size();
    }
  }

  private Map<String, Object> result(Workload w) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("workload", p.workload());
    m.put("seed", p.seed());
    m.put("compaction", policyName());
    m.put("steps", steps);
    m.put("simulated_seconds", steps / 1000.0);
    m.put("workload_runs", workloadRuns);
    m.put("thp_alloc_success", thpSuccess);
    m.put("thp_alloc_fail", thpFail);
    m.put("thp_held", thps.held());
    m.put("contig_alloc_success", contigSuccess);
    m.put("contig_alloc_fail", contigFail);
    m.put("contig_range_attempts", contig.successCount() + contig.failCount());
    m.put("isolate_ebusy", isolation.ebusyCount());
    for (VmEvent e : List.of(VmEvent.COMPACT_STALL, VmEvent.COMPACT_SUCCESS,
        VmEvent.COMPACT_FAIL, VmEvent.PGMIGRATE_SUCCESS, VmEvent.PGMIGRATE_FAIL,
        VmEvent.COMPACT_MIGRATE_SCANNED, VmEvent.COMPACT_FREE_SCANNED, VmEvent.COMPACT_ISOLATED,
        VmEvent.COMPACT_DAEMON_WAKE, VmEvent.COMPACT_DAEMON_MIGRATE_SCANNED,
        VmEvent.COMPACT_DAEMON_FREE_SCANNED)) {
      m.put(e.procName(), pa.event(e));
    }
    Coalescer.Stats co = pa.compaction().coalescer().stats();
    m.put("coalesce_success", co.success());
    m.put("coalesce_fail", co.fail());
    m.put("alloc_failures", pa.allocFailures());
    m.put("workload_live_pages", w.live().pages());
    m.put("free_pages", pa.freePages());
    m.put("free_order9_blocks", freeBlocksOfThpOrder());
    m.put("fragmentation_score", pa.compaction().fragmentationScoreNode());
    m.put("invariant_violations", violations);
    if (violations > 0) {
      m.put("first_violation", firstViolation);
    }
    return m;
  }

  private String policyName() {
    for (String name : List.of("off", "direct", "proactive", "kernel", "coalesce")) {
      if (CompactionPolicy.byName(name).equals(p.policy())) {
        return name;
      }
    }
    return p.policy().toString();
  }

  /** Free blocks of pageblock order or more, in pageblock units (buddy lists only). */
  private long freeBlocksOfThpOrder() {
    int pb = pa.geometry().pageblockOrder();
    long n = 0;
    for (Zone z : pa.zones()) {
      for (int o = pb; o < pa.geometry().nrPageOrders(); o++) {
        n += z.nrFree(o) << (o - pb);
      }
    }
    return n;
  }

  /** The compaction of the model (for callers that want more than the counters). */
  public Compaction compaction() {
    return pa.compaction();
  }
}
