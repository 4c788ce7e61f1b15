package io.hintlab.guest.workload;

import io.hintlab.guest.mm.PageAllocator;
import java.util.Map;

/**
 * {@code balloon}: an application that sizes its working set to the memory the balloon leaves it,
 * the way a cache or a JVM heap sized to available memory behaves in a ballooned guest. The host
 * moves the balloon target; the guest's balloon driver (on its own thread, in {@code guest run})
 * inflates or deflates toward it, taking pages from or giving them back to the same allocator;
 * this workload follows: it keeps the guest's free memory at {@code headroom} (default a tenth of
 * the memory), shrinking its working set when the balloon takes memory and growing it (up to
 * {@code bytes}, default three quarters of the memory free at creation) when the balloon gives
 * memory back. Within the band {@code [headroom, 1.5 x headroom]} it churns: a random held block
 * is replaced. Allocations are mostly order-0 movable pages (some order 1-3, a tenth unmovable),
 * written and verified like every workload's pages, so balloon pages and application pages
 * interleave in the same pageblocks and compaction has balloon pages to migrate.
 *
 * <p>Without a balloon (e.g. {@code guest sim}) it holds a steady working set. One op is one step
 * (one allocation attempt or one free); ops 0 runs {@value #DEFAULT_OPS} steps.
 */
public final class BalloonWorkload extends BaseWorkload {
  /** Registry name. */
  public static final String NAME = "balloon";
  /** Steps of a run with ops 0. */
  public static final long DEFAULT_OPS = 200_000;
  /** Its parameter: the free memory the application leaves. */
  static final WorkloadParam HEADROOM = new WorkloadParam("headroom", true,
      "free memory the application leaves the guest (default: a tenth of the memory)");
  /** Its parameter: the largest working set. */
  static final WorkloadParam BYTES = new WorkloadParam("bytes", true,
      "largest working set (default: three quarters of the free memory)");

  // Per mille; orders 0..3. Types: unmovable, reclaimable, movable.
  private static final Mix MIX = new Mix(new int[] {850, 80, 40, 30}, new int[] {100, 0, 900});

  private final long headroomPages;
  private final long capPages;
  private long growSteps;
  private long shrinkSteps;
  private long churnSteps;
  private long minWorkingSet;
  private long maxWorkingSet;

  BalloonWorkload(PageAllocator pa, long seed, WorkloadConfig config) {
    super(pa, seed, config.writer());
    this.headroomPages = sizeArgPages(pa, config, HEADROOM.key(), memoryPages(pa) / 10);
    this.capPages = sizeArgPages(pa, config, BYTES.key(), pa.freePages() * 3 / 4);
  }

  @Override
  public String name() {
    return NAME;
  }

  /** The free memory left to the guest, in pages. */
  long headroomPages() {
    return headroomPages;
  }

  /** The largest working set, in pages. */
  long capPages() {
    return capPages;
  }

  @Override
  void resetCounters() {
    growSteps = 0;
    shrinkSteps = 0;
    churnSteps = 0;
    minWorkingSet = live.pages();
    maxWorkingSet = live.pages();
  }

  @Override
  void putCounters(Map<String, Long> out) {
    out.put("grow_steps", growSteps);
    out.put("shrink_steps", shrinkSteps);
    out.put("churn_steps", churnSteps);
    out.put("min_working_set_pages", minWorkingSet);
    out.put("max_working_set_pages", maxWorkingSet);
  }

  @Override
  void execute(long ops) {
    long n = ops == 0 ? DEFAULT_OPS : ops;
    for (long i = 0; i < n; i++) {
      step();
      long ws = live.pages();
      minWorkingSet = Math.min(minWorkingSet, ws);
      maxWorkingSet = Math.max(maxWorkingSet, ws);
    }
  }

  /** One step: shrink below the headroom, grow above the band, churn inside it. */
  private void step() {
    // NR_FREE_PAGES read without the zone lock, as a userspace reader of /proc/meminfo would:
    // the balloon driver changes it concurrently.
    long free = pa.freePages();
    boolean held = live.size() > 0;
    if (free < headroomPages && held) {
      shrinkSteps++;
      freeRandom();
    } else if (free > headroomPages + headroomPages / 2 && live.pages() < capPages) {
      growSteps++;
      alloc(MIX.order(rnd), MIX.gfp(rnd));
    } else if (held && (rnd.nextInt() & 1) == 0) {
      churnSteps++;
      freeRandom();
    } else if (live.pages() < capPages) {
      churnSteps++;
      alloc(MIX.order(rnd), MIX.gfp(rnd));
    } else {
      churnSteps++;
      freeRandom();
    }
  }
}
