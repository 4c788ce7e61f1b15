package io.hintlab.guest.workload;

import io.hintlab.guest.mm.PageAllocator;

/**
 * The memory a guest's kernel and page cache keep in use for a whole run ({@code guest run
 * --resident}): a real idle guest is not nearly all free, because its page cache, anonymous
 * memory, slab and page tables stay allocated while nothing runs. Without it the model's idle
 * guest frees everything between rounds and ends up close to 100% free, which no migration of a
 * real idle guest sees.
 *
 * <p>A run fills it once ({@link #run} with ops 0) and frees it once ({@link #releaseAll}) at its
 * end; the workload's own {@code releaseAll()} between rounds does not touch it, as it is a
 * workload of its own with its own live blocks and owner class. Its pages are written and verified
 * through the run's {@link PageWriter} like any workload's, so they are owned pages in a pause's
 * answer and a host that loses them is caught.
 *
 * <p>The mix is what a resident kernel and page cache hold: mostly order-0 movable pages (page
 * cache and anonymous memory), some unmovable and reclaimable allocations of small orders (slab
 * caches, page tables), and no THP-sized blocks. The fill stops at the size, or after {@value
 * #MAX_FAILURES_IN_A_ROW} failed allocations in a row when memory runs out first; {@link
 * #heldPages()} says how much it got. One op is one allocation attempt; ops 0 fills to the size.
 *
 * <p>Its random stream is the run's seed XOR {@link #SEED_SALT}, so that it differs from the
 * workload's stream of the same seed and the same seed fills the same pfns.
 */
public final class ResidentSet extends BaseWorkload {
  /** Its name in results and logs (it is not in the workload registry). */
  public static final String NAME = "resident";
  /** XORed into the run's seed: "RESIDENT" in ASCII. */
  public static final long SEED_SALT = 0x5245534944454e54L;
  /** Failed allocations in a row after which the fill gives up: memory is too small. */
  public static final int MAX_FAILURES_IN_A_ROW = 64;

  /**
   * IdleWorkload's kernel and page-cache mix without its order-9 (THP) blocks: orders 0 to 3;
   * UNMOVABLE, RECLAIMABLE, MOVABLE.
   */
  private static final Mix MIX = new Mix(new int[] {820, 50, 40, 40}, new int[] {15, 10, 75});

  private final long targetPages;
  private final int maxOrder;

  private ResidentSet(PageAllocator pa, long runSeed, PageWriter writer, long bytes) {
    super(pa, runSeed ^ SEED_SALT, writer);
    this.targetPages = Math.ceilDiv(bytes, pa.geometry().pageSize());
    this.maxOrder = pa.geometry().maxPageOrder();
  }

  /**
   * A resident set of {@code bytes} (rounded up to whole pages), not allocated yet.
   *
   * @param pa the allocator
   * @param seed the run's seed (the set's stream is {@code seed ^} {@link #SEED_SALT})
   * @param writer writes and verifies its pages; null for {@link PageWriter#NONE}
   * @param bytes its size; 0: nothing is resident
   * @return the set
   * @throws IllegalArgumentException if {@code bytes} is negative or {@code pa} is null
   */
  public static ResidentSet create(PageAllocator pa, long seed, PageWriter writer, long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes must be >= 0, got " + bytes);
    }
    if (pa == null) {
      throw new IllegalArgumentException("allocator must not be null");
    }
    return new ResidentSet(pa, seed, writer, bytes);
  }

  @Override
  public String name() {
    return NAME;
  }

  /**
   * The pages the fill aims for: the size rounded up to whole pages.
   *
   * @return pages
   */
  public long targetPages() {
    return targetPages;
  }

  /**
   * The pages held now: after a fill, {@link #targetPages()} unless memory ran out first.
   *
   * @return pages
   */
  public long heldPages() {
    return live.pages();
  }

  @Override
  void execute(long ops) {
    long cap = ops == 0 ? Long.MAX_VALUE : ops;
    long attempts = 0;
    int failuresInARow = 0;
    while (live.pages() < targetPages && attempts < cap
        && failuresInARow < MAX_FAILURES_IN_A_ROW) {
      attempts++;
      failuresInARow = alloc(nextOrder(), MIX.gfp(rnd)) ? 0 : failuresInARow + 1;
    }
  }

  /** A random order of the mix, no larger than what is left to fill, so the fill ends exact. */
  private int nextOrder() {
    int leftOrder = 63 - Long.numberOfLeadingZeros(targetPages - live.pages());
    return Math.min(Math.min(MIX.order(rnd), maxOrder), leftOrder);
  }
}
