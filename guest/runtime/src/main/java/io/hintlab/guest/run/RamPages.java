package io.hintlab.guest.run;

import io.hintlab.guest.mm.PageCopier;
import io.hintlab.guest.ram.GuestRam;
import io.hintlab.guest.ram.PageCheck;
import io.hintlab.guest.workload.PageWriter;
import java.util.Arrays;

/**
 * The workload's {@link PageWriter} and the allocator's {@link PageCopier} over one {@link
 * GuestRam}: every page a workload allocates is stamped, every page it frees is verified first
 * (lost writes and corrupt pages are counted by the RAM), and a migrated page is checked at its
 * old pfn and written again at its new one.
 *
 * <p>Why migration re-stamps: a GuestRam stamp contains the pfn, so a byte copy of a stamped page
 * to another pfn would verify as corrupt there. The copier therefore writes the destination pages
 * with the owner and generation the source pages were written with, which is what the workload
 * verifies at the new pfn before it frees the block. The source is verified first (it is still
 * allocated, so reading it cannot refault a discarded page), so content the host lost before the
 * migration is counted once, at the source, and not carried along unseen.
 *
 * <p>To do this the class remembers, per pfn, the owner word and generation of the last write
 * (12 bytes a page). With {@code poisonVal} set (VIRTIO_BALLOON_F_PAGE_POISON negotiated), pages
 * are poisoned after their verification, before they go back to the allocator, as the Linux
 * driver requires before a freed page may be reported; a migrated block's source is poisoned too.
 *
 * <p><b>Note:</b> not thread-safe. It is called by the thread that drives the workload: the
 * workload's writes and verifications, and migrations, which run on the allocating thread
 * (compaction and contiguous allocation in the workload's allocation calls).
 */
public final class RamPages implements PageWriter, PageCopier {
  private final GuestRam ram;
  private final boolean poison;
  private final int poisonVal;
  private final int[] ownerOf;
  /** The generation of the page's last write; 0: not written by the workload (free). */
  private final long[] generationOf;
  private long migratedPages;

  /**
   * Pages of {@code ram}, without poisoning.
   *
   * @param ram the mapped guest RAM; its page count must fit in an int
   * @return the writer and copier
   */
  public static RamPages of(GuestRam ram) {
    return new RamPages(ram, false, 0);
  }

  /**
   * Pages of {@code ram} whose freed pages are filled with {@code poisonVal}.
   *
   * @param ram the mapped guest RAM; its page count must fit in an int
   * @param poisonVal the negotiated poison_val
   * @return the writer and copier
   */
  public static RamPages poisoning(GuestRam ram, int poisonVal) {
    return new RamPages(ram, true, poisonVal);
  }

  private RamPages(GuestRam ram, boolean poison, int poisonVal) {
    if (ram == null) {
      throw new IllegalArgumentException("ram must not be null");
    }
    if (ram.pages() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("too many pages for the model: " + ram.pages());
    }
    this.ram = ram;
    this.poison = poison;
    this.poisonVal = poisonVal;
    this.ownerOf = new int[(int) ram.pages()];
    this.generationOf = new long[(int) ram.pages()];
  }

  @Override
  public void write(int pfn, int nrPages, int owner, long generation) {
    if (generation == 0) {
      throw new IllegalArgumentException("generation 0 is reserved for unwritten pages");
    }
    for (int p = pfn, end = pfn + nrPages; p < end; p++) {
      ram.writePage(p, owner, generation);
      ownerOf[p] = owner;
      generationOf[p] = generation;
    }
  }

  @Override
  public int verify(int pfn, int nrPages, int owner, long generation) {
    int bad = 0;
    for (int p = pfn, end = pfn + nrPages; p < end; p++) {
      if (ram.verifyPage(p, owner, generation) != PageCheck.OK) {
        bad++;
      }
      generationOf[p] = 0;
    }
    if (poison) {
      ram.poisonPages(pfn, nrPages, poisonVal);
    }
    return bad;
  }

  /**
   * Moves the stamps of a migrating block: each source page the workload wrote is verified, then
   * its owner and generation are written at the destination page.
   */
  @Override
  public void copy(int dst, int src, int order) {
    int n = 1 << order;
    for (int i = 0; i < n; i++) {
      int s = src + i;
      long gen = generationOf[s];
      if (gen == 0) {
        continue; // never written: nothing to carry (a page the workload did not stamp)
      }
      int owner = ownerOf[s];
      ram.verifyPage(s, owner, gen);
      ram.writePage(dst + i, owner, gen);
      ownerOf[dst + i] = owner;
      generationOf[dst + i] = gen;
      generationOf[s] = 0;
      migratedPages++;
    }
    if (poison) {
      ram.poisonPages(src, n, poisonVal);
    }
  }

  /**
   * Pages whose stamps a migration moved.
   *
   * @return the count
   */
  public long migratedPages() {
    return migratedPages;
  }

  /**
   * Pages written by the workload and not yet verified for a free.
   *
   * @return the count
   */
  public long heldPages() {
    return Arrays.stream(generationOf).filter(g -> g != 0).count();
  }

  /**
   * The pages that hold data the guest will read back, for the Paused answer (device.proto
   * {@code PausedRequest.owned_bitmap}): each page the workload wrote and has not verified for a
   * free since, wherever a migration moved it. One bit per pfn, bit {@code pfn & 63} of the
   * little-endian 64-bit word {@code pfn >> 6}, which is bit {@code pfn & 7} of byte {@code pfn
   * >> 3}; whole words, as the dirty log. Call it with the writers stopped (the vCPU gate's
   * answer): it reads the per-pfn generations without a lock.
   *
   * @return the bitmap
   */
  public byte[] ownedBitmap() {
    int n = generationOf.length;
    byte[] out = new byte[(int) GuestRam.dirtyLogBytes(n)];
    for (int p = 0; p < n; p++) {
      if (generationOf[p] != 0) {
        out[p >>> 3] |= (byte) (1 << (p & 7));
      }
    }
    return out;
  }
}
