package io.hintlab.guest.mm;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/**
 * The parts of reclaim the model has: the shrinkers of {@code shrink_slab()} (mm/shrinker.c)
 * driven as {@code do_try_to_free_pages()} drives them, and the OOM notifier chain of {@code
 * out_of_memory()}. The model has no LRU lists, so shrinkers are the only source of reclaim
 * progress.
 *
 * <p><b>Note:</b> thread-safe. Registration lists are copy-on-write; each shrinker's deferred
 * scan count ({@code shrinker->nr_deferred}) is updated under the registration's monitor.
 */
final class Reclaim {
  /** DEF_PRIORITY (include/linux/mmzone.h): the first pass scans 1/4096 of each cache. */
  static final int DEF_PRIORITY = 12;
  /** SWAP_CLUSTER_MAX: the pages try_to_free_pages() aims to reclaim. */
  static final long SWAP_CLUSTER_MAX = 32;
  /** SHRINK_BATCH: scan_objects() is called with at most this many. */
  static final long SHRINK_BATCH = 128;
  /** DEFAULT_SEEKS: how costly a cache's objects are to recreate. */
  static final int DEFAULT_SEEKS = 2;

  private static final class Registration {
    final Shrinker shrinker;
    long nrDeferred; // guarded by this

    Registration(Shrinker s) {
      this.shrinker = s;
    }
  }

  private final CopyOnWriteArrayList<Registration> shrinkers = new CopyOnWriteArrayList<>();
  private final CopyOnWriteArrayList<OomNotifier> oomNotifiers = new CopyOnWriteArrayList<>();
  final LongAdder allocStalls = new LongAdder();
  final LongAdder slabsScanned = new LongAdder();
  final LongAdder reclaimedPages = new LongAdder();
  final LongAdder oomNotifyCalls = new LongAdder();
  final LongAdder oomFreedPages = new LongAdder();

  void register(Shrinker s) {
    if (s == null) {
      throw new IllegalArgumentException("shrinker must not be null");
    }
    shrinkers.add(new Registration(s));
  }

  boolean unregister(Shrinker s) {
    return shrinkers.removeIf(r -> r.shrinker == s);
  }

  void register(OomNotifier n) {
    if (n == null) {
      throw new IllegalArgumentException("oom notifier must not be null");
    }
    oomNotifiers.add(n);
  }

  boolean unregister(OomNotifier n) {
    return oomNotifiers.remove(n);
  }

  boolean hasShrinkers() {
    return !shrinkers.isEmpty();
  }

  /**
   * try_to_free_pages() without LRU lists: priorities from DEF_PRIORITY down to 0, shrink_slab()
   * at each, until SWAP_CLUSTER_MAX pages are reclaimed.
   *
   * @return pages reclaimed (the slow path's did_some_progress)
   */
  long tryToFreePages(int cpu) {
    allocStalls.increment();
    if (shrinkers.isEmpty()) {
      return 0;
    }
    long reclaimed = 0;
    for (int priority = DEF_PRIORITY; priority >= 0 && reclaimed < SWAP_CLUSTER_MAX;
        priority--) {
      for (Registration r : shrinkers) {
        reclaimed += doShrinkSlab(cpu, r, priority);
      }
    }
    reclaimedPages.add(reclaimed);
    return reclaimed;
  }

  /**
   * do_shrink_slab(): scan (freeable &gt;&gt; priority) * 4 / seeks objects plus what earlier
   * calls deferred, in batches, capped at twice the freeable objects; what is left is deferred.
   */
  private long doShrinkSlab(int cpu, Registration r, int priority) {
    long freeable = r.shrinker.countObjects();
    if (freeable <= 0) {
      return 0;
    }
    long totalScan;
    synchronized (r) {
      totalScan = r.nrDeferred + (freeable >> priority) * 4 / DEFAULT_SEEKS;
      r.nrDeferred = 0;
    }
    totalScan = Math.min(totalScan, freeable * 2);
    long freed = 0;
    // "Normally, we should not scan less than batch_size objects in one pass", unless the cache
    // holds fewer than that.
    while (totalScan >= SHRINK_BATCH || totalScan >= freeable) {
      long nrToScan = Math.min(SHRINK_BATCH, totalScan);
      long ret = r.shrinker.scanObjects(cpu, nrToScan);
      if (ret == Shrinker.SHRINK_STOP) {
        break;
      }
      freed += ret;
      slabsScanned.add(nrToScan);
      totalScan -= nrToScan;
      if (totalScan <= 0) {
        break;
      }
    }
    synchronized (r) {
      r.nrDeferred = Math.min(r.nrDeferred + Math.max(0, totalScan), freeable * 2);
    }
    return freed;
  }

  /**
   * out_of_memory()'s notifier chain (blocking_notifier_call_chain(&amp;oom_notify_list)).
   *
   * @return pages the chain freed
   */
  long oomNotify(int cpu) {
    long freed = 0;
    for (OomNotifier n : oomNotifiers) {
      oomNotifyCalls.increment();
      freed += Math.max(0, n.oomNotify(cpu));
    }
    oomFreedPages.add(freed);
    return freed;
  }
}
