package io.hintlab.guest.workload;

import io.hintlab.guest.mm.Gfp;
import io.hintlab.guest.mm.PageAllocator;
import java.util.Arrays;
import java.util.Map;

/**
 * {@code thp}: transparent huge pages: order-9 (pageblock order) movable allocations, each held
 * for a random lifetime and then freed. Three attempts in four are page faults with the default
 * {@code defrag=madvise} setting (GFP_TRANSHUGE_LIGHT: no compaction, no kswapd), the fourth one
 * in a madvised region (GFP_HIGHUSER_MOVABLE: may compact directly and wakes kswapd). A THP is
 * held for a uniformly random number of attempts in [1, 2 &times; {@code lifetime}] (default
 * lifetime: half the number of pageblocks free when the workload was created), so that all
 * successes together would hold about half of memory. Before each attempt the THPs whose
 * lifetime is over are freed. One op is one THP attempt; ops 0 runs {@value #DEFAULT_OPS}.
 */
public final class ThpWorkload extends BaseWorkload {
  /** Registry name. */
  public static final String NAME = "thp";
  /** Attempts of a run with ops 0. */
  public static final long DEFAULT_OPS = 1000;
  /** Its parameter: the mean lifetime. */
  static final WorkloadParam LIFETIME = new WorkloadParam("lifetime", false,
      "mean number of THP attempts a THP is held (default: half the free pageblocks)");

  private final int order;
  private final long lifetime;
  /** THP attempts so far (the clock of the lifetimes). */
  private long now;
  /** The attempt at which each held block is freed, by handle. */
  private long[] expiry = new long[64];
  private long lightAttempts;
  private long madvisedAttempts;

  ThpWorkload(PageAllocator pa, long seed, WorkloadConfig config) {
    super(pa, seed, config.writer());
    this.order = pa.geometry().pageblockOrder();
    long dflt = Math.max(1, (pa.freePages() >> order) / 2);
    this.lifetime = countArg(config, LIFETIME.key(), dflt, 1, Integer.MAX_VALUE);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  void resetCounters() {
    lightAttempts = 0;
    madvisedAttempts = 0;
  }

  @Override
  void putCounters(Map<String, Long> out) {
    out.put("thp_light_attempts", lightAttempts);
    out.put("thp_madvised_attempts", madvisedAttempts);
  }

  @Override
  void execute(long ops) {
    long n = ops == 0 ? DEFAULT_OPS : ops;
    for (long i = 0; i < n; i++) {
      now++;
      for (int j = live.size() - 1; j >= 0; j--) {
        if (expiry[live.handle(j)] <= now) {
          freeAt(j);
        }
      }
      boolean madvised = (rnd.nextInt() & 3) == 0;
      long expires = now + 1 + rnd.nextLong(2 * lifetime);
      if (madvised) {
        madvisedAttempts++;
      } else {
        lightAttempts++;
      }
      if (alloc(order, madvised ? Gfp.GFP_HIGHUSER_MOVABLE : Gfp.GFP_TRANSHUGE_LIGHT)) {
        int h = live.handle(live.size() - 1);
        if (h >= expiry.length) {
          expiry = Arrays.copyOf(expiry, Math.max(h + 1, expiry.length * 2));
        }
        expiry[h] = expires;
      }
    }
  }
}
