package io.hintlab.guest.demo;

import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.Zone;
import io.hintlab.guest.mm.view.ProcView;
import io.hintlab.guest.workload.FragmentWorkload;
import io.hintlab.guest.workload.WorkloadResult;
import io.hintlab.guest.workload.Workloads;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The demo until the guest/host pair exists: boot an allocator model, take buddyinfo, run the
 * {@code fragment} workload, take buddyinfo again, and sum up what changed (free pages, free
 * pages in whole pageblocks, fallbacks, failed allocations).
 */
public final class ModelDemo {
  private ModelDemo() {}

  /**
   * Free-memory figures of the model at one moment.
   *
   * @param buddyinfo the /proc/buddyinfo text
   * @param nrFree per populated zone (by kernel name), free blocks per order
   * @param freePages NR_FREE_PAGES over all zones
   * @param freePagesInPageblocks free pages in blocks of pageblock order or more
   */
  public record Snapshot(
      String buddyinfo, Map<String, long[]> nrFree, long freePages, long freePagesInPageblocks) {

    static Snapshot of(PageAllocator pa) {
      Map<String, long[]> nrFree = new LinkedHashMap<>();
      long blocks = 0;
      for (Zone z : pa.zones()) {
        long[] counts = new long[pa.geometry().nrPageOrders()];
        for (int o = 0; o < counts.length; o++) {
          counts[o] = z.nrFree(o);
        }
        nrFree.put(z.name(), counts);
        blocks += z.freePagesBlocks();
      }
      return new Snapshot(ProcView.BUDDYINFO.render(pa), nrFree, pa.freePages(), blocks);
    }

    /** As a map for JSON output. */
    Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("free_pages", freePages);
      m.put("free_pages_in_pageblocks", freePagesInPageblocks);
      List<Object> zones = new ArrayList<>();
      nrFree.forEach((name, counts) -> {
        Map<String, Object> z = new LinkedHashMap<>();
        z.put("zone", name);
        List<Long> c = new ArrayList<>();
        for (long n : counts) {
          c.add(n);
        }
        z.put("nr_free", c);
        zones.add(z);
      });
      m.put("buddyinfo", zones);
      m.put("buddyinfo_text", buddyinfo);
      return m;
    }
  }

  /**
   * What the demo did.
   *
   * @param memoryBytes guest size
   * @param cpus modelled cpus
   * @param before the model at boot
   * @param workload the workload's counts
   * @param after the model after the workload
   * @param fallbacks allocations served from another migratetype's free lists (extfrag events)
   * @param fragmentingFallbacks those that split a block smaller than a pageblock
   * @param allocFailures allocations that failed since boot
   */
  public record Result(
      long memoryBytes, int cpus, Snapshot before, WorkloadResult workload, Snapshot after,
      long fallbacks, long fragmentingFallbacks, long allocFailures) {

    /** As an ordered map with snake_case keys, for JSON output. */
    public Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("mode", "allocator model alone (the guest/host pair comes with a later issue)");
      m.put("memory_bytes", memoryBytes);
      m.put("cpus", cpus);
      m.put("workload", workload.toMap());
      m.put("before", before.toMap());
      m.put("after", after.toMap());
      m.put("fallbacks", fallbacks);
      m.put("fallbacks_fragmenting", fragmentingFallbacks);
      m.put("alloc_failures", allocFailures);
      return m;
    }
  }

  /** Runs the demo on a freshly booted model of {@code cfg}. */
  public static Result run(MmConfig cfg, long seed) {
    PageAllocator pa = new PageAllocator(cfg);
    long memoryBytes = (long) pa.memMap().nrPages() << pa.geometry().pageShift();
    int cpus = pa.nrCpus();
    Snapshot before = Snapshot.of(pa);
    WorkloadResult w = Workloads.create(FragmentWorkload.NAME, pa, seed).run(0);
    Snapshot after = Snapshot.of(pa);
    long fallbacks = 0;
    long fragmenting = 0;
    for (Zone z : pa.zones()) {
      fallbacks += z.extfragEvents();
      fragmenting += z.extfragFragmenting();
    }
    return new Result(memoryBytes, cpus, before, w, after, fallbacks, fragmenting,
        pa.allocFailures());
  }
}
