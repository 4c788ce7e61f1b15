package io.hintlab.guest.driver;

import io.hintlab.guest.mm.BalloonDevInfo;
import io.hintlab.guest.mm.Errno;
import io.hintlab.guest.mm.MovableOps;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.transport.DeviceClient;
import io.hintlab.guest.transport.TransportException;
import io.hintlab.guest.transport.VirtioBalloon;
import java.time.Duration;
import java.util.BitSet;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The inflate and deflate half of drivers/virtio/virtio_balloon.c: {@code fill_balloon()}, {@code
 * leak_balloon()}, {@code tell_host()}, {@code virtballoon_migratepage()}, {@code
 * virtio_balloon_oom_notify()}'s leak and {@code remove_common()}'s, over the model's {@link
 * BalloonDevInfo} and the device's inflate and deflate queues ({@link DeviceClient}).
 *
 * <p>Counts are balloon pages of 4 KiB; a guest page is {@code pagesPerPage} of them ({@code
 * VIRTIO_BALLOON_PAGES_PER_PAGE}), each told to the host by its own pfn ({@code
 * set_page_pfns()}).
 *
 * <p><b>Order.</b> A page enters the balloon before the host is told of it, and the host is told
 * before a page leaves the balloon (with MUST_TELL_HOST the order is mandatory). Telling
 * can fail here (the host went away or missed its deadline), which it cannot in Linux; the rules
 * keep the guest's data safe whatever the host did with a call that failed:
 *
 * <ul>
 *   <li>A failed inflate leaves its pages in the balloon, remembered as <i>untold</i>, and told
 *       again before the next fill (the host's inflate is idempotent). Giving them back instead
 *       would be unsafe: a host that processes the call late discards pages the guest reuses.
 *   <li>A failed deflate still gives its pages back: a deflate never discards, so a late one
 *       cannot lose data; the host only keeps counting the pages as ballooned. The failure is
 *       counted. After the first failure, {@link #removeAll} stops telling a host that is gone.
 * </ul>
 *
 * <p><b>Locking.</b> {@code balloonLock} is {@code vb->balloon_lock}. It is a {@link Semaphore}
 * because a kernel mutex is not reentrant: {@code mutex_trylock()} in {@code
 * virtballoon_migratepage()} fails even for the task holding it, and so does {@code tryAcquire()}.
 * Unlike Linux, {@link #fill} allocates under the lock: {@link BalloonDevInfo#inflateOne} enqueues
 * the page as a movable balloon page at once, and a migration of a page the host has not been told
 * of yet would tell "deflate old" before "inflate old". Holding the lock makes such a migration
 * fail with -EAGAIN, so the page is moved later, after the host knows it.
 *
 * <p><b>Note:</b> thread-safe. Fills and leaks run on the driver's thread, the OOM leak on an
 * allocating thread, migrations on a migrating thread; all hold {@code balloonLock}.
 */
final class Balloon {
  /** Pfns per inflate or deflate buffer (drivers/virtio/virtio_balloon.c). */
  static final int VIRTIO_BALLOON_ARRAY_PFNS_MAX = VirtioBalloon.VIRTIO_BALLOON_ARRAY_PFNS_MAX;

  /** Most 4 KiB pages one OOM notification deflates (drivers/virtio/virtio_balloon.c). */
  static final int VIRTIO_BALLOON_OOM_NR_PAGES = 256;

  private static final Logger LOG = LoggerFactory.getLogger(Balloon.class);

  /**
   * What one fill or leak did.
   *
   * @param pages balloon pages added (fill) or removed (leak)
   * @param outOfPuff an allocation failed: wait before the next fill
   * @param deviceFailed a call to the device failed
   */
  record Step(int pages, boolean outOfPuff, boolean deviceFailed) {}

  private enum Queue { INFLATE, DEFLATE }

  private final DeviceClient client;
  private final DriverCounters counters;
  private final IntConsumer releasedPageInit;
  private final int pagesPerPage;
  private final BalloonDevInfo info;
  private final Semaphore balloonLock = new Semaphore(1);
  private final long[] pfns = new long[VIRTIO_BALLOON_ARRAY_PFNS_MAX]; // guarded by balloonLock
  private final int[] pages = new int[VIRTIO_BALLOON_ARRAY_PFNS_MAX]; // guarded by balloonLock
  private final BitSet untold = new BitSet(); // guarded by balloonLock
  private volatile int numPages; // written under balloonLock
  private volatile int actual;
  private volatile boolean removing;
  private boolean failing; // guarded by balloonLock: the last call failed (log once, not per retry)

  /**
   * A balloon over {@code allocator} (registers its balloon page list with the allocator).
   *
   * @param allocator the guest's allocator
   * @param client the device
   * @param counters where to count
   * @param releasedPageInit called with each guest pfn before it is given back
   * @throws IllegalArgumentException if the guest page is smaller than 4 KiB
   */
  Balloon(PageAllocator allocator, DeviceClient client, DriverCounters counters,
      IntConsumer releasedPageInit) {
    long pageSize = allocator.geometry().pageSize();
    if (pageSize < 1 << VirtioBalloon.VIRTIO_BALLOON_PFN_SHIFT) {
      throw new IllegalArgumentException("balloon pages are 4 KiB; the guest page is " + pageSize);
    }
    this.client = client;
    this.counters = counters;
    this.releasedPageInit = releasedPageInit;
    this.pagesPerPage = (int) (pageSize >> VirtioBalloon.VIRTIO_BALLOON_PFN_SHIFT);
    this.info = new BalloonDevInfo(allocator, this::migratepage); // balloon_devinfo_init()
  }

  /** The model's balloon page list. */
  BalloonDevInfo info() {
    return info;
  }

  /** {@code VIRTIO_BALLOON_PAGES_PER_PAGE}: balloon pages per guest page. */
  int pagesPerPage() {
    return pagesPerPage;
  }

  /** {@code vb->num_pages}: balloon pages in the balloon. */
  int numPages() {
    return numPages;
  }

  /** The actual the driver last wrote ({@link #updateBalloonSize}). */
  int actual() {
    return actual;
  }

  /**
   * {@code towards_target()}: the target aligned up to whole guest pages (a target inside a guest
   * page would otherwise make the balloon swing around it forever), minus the balloon.
   *
   * @param configNumPages num_pages as the device wrote it (unsigned)
   * @return balloon pages to add (positive) or remove (negative)
   */
  long towardsTarget(int configNumPages) {
    long target = Integer.toUnsignedLong(configNumPages);
    target = (target + pagesPerPage - 1) / pagesPerPage * pagesPerPage;
    return target - numPages;
  }

  /**
   * {@code update_balloon_size()}: the driver writes actual = num_pages. The device protocol has no
   * config write (the host derives its actual from the inflate and deflate queues), so this is the
   * driver's own view, published with the metrics.
   */
  void updateBalloonSize() {
    actual = numPages;
  }

  /**
   * {@code fill_balloon()}: up to one array of pages into the balloon, then tell the host. Pages a
   * failed call did not tell are told again first.
   *
   * @param cpu the allocating cpu
   * @param num balloon pages wanted, at least 1
   * @return what was done
   */
  Step fill(int cpu, long num) {
    int want = (int) Math.min(num, VIRTIO_BALLOON_ARRAY_PFNS_MAX);
    balloonLock.acquireUninterruptibly();
    try {
      if (!tellUntold()) {
        return new Step(0, false, true);
      }
      int n = 0;
      boolean outOfPuff = false;
      for (int numPfns = 0; numPfns < want; numPfns += pagesPerPage) {
        int pfn = info.inflateOne(cpu); // balloon_page_alloc() + balloon_page_enqueue()
        if (pfn < 0) {
          outOfPuff = true;
          counters.outOfPuff.increment();
          LOG.debug("virtio_balloon: Out of puff! Can't get {} pages", pagesPerPage);
          break;
        }
        setPagePfns(n++, pfn);
      }
      int added = n * pagesPerPage;
      numPages += added;
      counters.inflatedPages.add(added);
      boolean failed = n > 0 && !tellHost(Queue.INFLATE, added);
      if (failed) {
        for (int i = 0; i < n; i++) {
          untold.set(pages[i]);
        }
      }
      return new Step(added, outOfPuff, failed);
    } finally {
      balloonLock.release();
    }
  }

  /**
   * {@code leak_balloon()}: up to one array of pages out of the balloon; tell the host, then give
   * them back (MUST_TELL_HOST).
   *
   * @param cpu the cpu that frees
   * @param num balloon pages to give back
   * @return what was done
   */
  Step leak(int cpu, long num) {
    balloonLock.acquireUninterruptibly();
    try {
      return leakLocked(cpu, num, true);
    } finally {
      balloonLock.release();
    }
  }

  private Step leakLocked(int cpu, long num, boolean tell) {
    // never more than the balloon holds
    int want = (int) Math.min(Math.min(num, VIRTIO_BALLOON_ARRAY_PFNS_MAX), numPages);
    int n = 0;
    for (int numPfns = 0; numPfns < want; numPfns += pagesPerPage) {
      int pfn = info.dequeueOne(cpu); // balloon_page_dequeue()
      if (pfn < 0) {
        break;
      }
      setPagePfns(n++, pfn);
      untold.clear(pfn);
    }
    int removed = n * pagesPerPage;
    numPages -= removed;
    boolean failed = tell && n > 0 && !tellHost(Queue.DEFLATE, removed);
    releasePagesBalloon(cpu, n);
    counters.deflatedPages.add(removed);
    return new Step(removed, false, failed);
  }

  /** release_pages_balloon(): the free path's page init, then back to the buddy. */
  private void releasePagesBalloon(int cpu, int n) {
    for (int i = 0; i < n; i++) {
      releasedPageInit.accept(pages[i]);
      info.release(cpu, pages[i]);
    }
  }

  /**
   * {@code virtio_balloon_oom_notify()}: deflate {@value #VIRTIO_BALLOON_OOM_NR_PAGES} balloon
   * pages, then {@code update_balloon_size()}. Runs on the allocating thread; {@code
   * mutex_lock()} there waits for a fill or migration to tell its host call.
   *
   * @param cpu the allocating thread's cpu (the pages go to its per-cpu lists)
   * @return guest pages freed
   */
  long oomNotify(int cpu) {
    if (removing) {
      return 0;
    }
    Step s = leak(cpu, VIRTIO_BALLOON_OOM_NR_PAGES);
    counters.oomDeflatedPages.add(s.pages());
    updateBalloonSize();
    return s.pages() / pagesPerPage;
  }

  /**
   * {@code virtballoon_migratepage()}: the balloon page {@code oldPfn} moves to {@code newPfn};
   * tell the host "inflate new", then "deflate old". Runs on the migrating thread.
   *
   * @return {@link MovableOps#MIGRATEPAGE_SUCCESS}, or -EAGAIN when the balloon lock is taken, the
   *     driver is being removed, or the host could not be told of the new page
   */
  int migratepage(int newPfn, int oldPfn) {
    if (removing || !balloonLock.tryAcquire()) { // mutex_trylock(&vb->balloon_lock)
      return -Errno.EAGAIN;
    }
    try {
      setPagePfns(0, newPfn);
      if (!tellHost(Queue.INFLATE, pagesPerPage)) {
        return -Errno.EAGAIN; // the page stays where it is; the host knows it there
      }
      // The host has the new page now: the move completes even if the deflate fails (see above).
      setPagePfns(0, oldPfn);
      tellHost(Queue.DEFLATE, pagesPerPage);
      untold.clear(oldPfn);
      counters.migrations.increment();
      return MovableOps.MIGRATEPAGE_SUCCESS;
    } finally {
      balloonLock.release();
    }
  }

  /** From now on migrations fail with -EAGAIN and the OOM notifier frees nothing. */
  void markRemoving() {
    removing = true;
  }

  /**
   * {@code remove_common()}: {@code while (vb->num_pages) leak_balloon(vb, vb->num_pages)}, then
   * {@code update_balloon_size()}. After the first failed deflate, or once {@code tellBudget} is
   * spent, the host is not told any more (it is gone, or too slow to wait for); the pages go back
   * all the same. A page isolated by a migration in flight (which fails at once, the balloon
   * being removed) is waited for at most {@code isolatedWait}.
   *
   * @param cpu the cpu that frees
   * @param lockWait the longest wait for a fill, leak or migration in flight to let go
   * @param tellBudget the longest time spent telling the host
   * @param isolatedWait the longest wait for isolated pages to come back
   * @return balloon pages left (0 unless a wait ran out)
   */
  int removeAll(int cpu, Duration lockWait, Duration tellBudget, Duration isolatedWait) {
    markRemoving();
    boolean tell = true;
    long start = System.nanoTime();
    long isolatedEnd = start + isolatedWait.toNanos();
    while (numPages > 0) {
      if (tell && System.nanoTime() - start - tellBudget.toNanos() >= 0) {
        tell = false;
        counters.failures.increment();
        LOG.warn("virtio_balloon: deflating took over {}; giving the remaining {} pages back"
            + " without telling the host", tellBudget, numPages);
      }
      if (!tryLock(lockWait)) {
        LOG.error("virtio_balloon: remove could not take the balloon lock within {}; {} pages"
            + " left in the balloon", lockWait, numPages);
        break;
      }
      Step s;
      try {
        s = leakLocked(cpu, numPages, tell);
      } finally {
        balloonLock.release();
      }
      if (s.deviceFailed()) {
        tell = false;
        LOG.warn("virtio_balloon: the device did not take a deflate; giving the remaining {}"
            + " pages back without telling it", numPages);
      }
      if (s.pages() == 0) {
        if (System.nanoTime() - isolatedEnd >= 0) {
          LOG.error("virtio_balloon: {} pages stayed isolated by a migration", numPages);
          break;
        }
        Thread.yield(); // a migration in flight puts its page back as soon as it fails
      }
    }
    updateBalloonSize();
    return numPages;
  }

  private boolean tryLock(Duration wait) {
    try {
      return balloonLock.tryAcquire(wait.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Tells the host of the untold pages, an array at a time; false when a call failed. */
  private boolean tellUntold() {
    int pfn = untold.nextSetBit(0);
    while (pfn >= 0) {
      int n = 0;
      int first = pfn;
      while (pfn >= 0 && (n + 1) * pagesPerPage <= VIRTIO_BALLOON_ARRAY_PFNS_MAX) {
        setPagePfns(n++, pfn);
        pfn = untold.nextSetBit(pfn + 1);
      }
      if (!tellHost(Queue.INFLATE, n * pagesPerPage)) {
        return false;
      }
      untold.clear(first, pages[n - 1] + 1);
    }
    return true;
  }

  /** set_page_pfns(): the balloon pfns of guest page {@code pfn} at array entry {@code i}. */
  private void setPagePfns(int i, int pfn) {
    pages[i] = pfn;
    long first = (long) pfn * pagesPerPage;
    for (int j = 0; j < pagesPerPage; j++) {
      pfns[i * pagesPerPage + j] = first + j;
    }
  }

  /**
   * {@code tell_host()}: one buffer on the inflate or deflate queue; the call returns once the host
   * used it. A missing session (detached, being re-established) fails like a call.
   */
  private boolean tellHost(Queue q, int numPfns) {
    try {
      if (client.session().isEmpty()) {
        throw TransportException.local(TransportException.Reason.SESSION_LOST,
            q == Queue.INFLATE ? "Inflate" : "Deflate", "no session");
      }
      if (q == Queue.INFLATE) {
        client.inflate(pfns, numPfns);
      } else {
        client.deflate(pfns, numPfns);
      }
      if (failing) {
        failing = false;
        LOG.info("virtio_balloon: the device takes {} buffers again", q);
      }
      return true;
    } catch (TransportException e) {
      counters.failures.increment();
      if (!failing) {
        LOG.warn("virtio_balloon: {} of {} pages failed: {}", q, numPfns, e.getMessage());
      } else {
        LOG.debug("virtio_balloon: {} of {} pages failed: {}", q, numPfns, e.getMessage());
      }
      failing = true;
      return false;
    }
  }
}
