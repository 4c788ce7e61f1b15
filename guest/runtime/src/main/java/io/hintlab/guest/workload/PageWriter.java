package io.hintlab.guest.workload;

/**
 * What a workload does to the contents of the pages it holds: it writes (touches) every page it
 * allocates right after the allocation, and verifies every page right before it frees it. The
 * allocator model holds no page contents, so without guest RAM this is {@link #NONE}; a guest
 * attached to a host installs one backed by its RAM mapping, which stamps each page and counts the
 * pages whose content the host lost.
 *
 * <p>A block is passed as its first pfn and its number of pages (2^order for a buddy block, any
 * count for a contiguous range). The owner word and generation identify the write, so a stale or
 * foreign copy is told apart from the data the workload wrote; the workload passes the same pair
 * to {@link #verify} as to {@link #write}. Pages migrated in between are verified at their new pfn
 * (the allocator's page copier moves their contents).
 *
 * <p>Called from the workload's thread only.
 */
public interface PageWriter {
  /** No RAM attached: nothing is written and every verification passes. */
  PageWriter NONE = new PageWriter() {
    @Override
    public void write(int pfn, int nrPages, int owner, long generation) {}

    @Override
    public int verify(int pfn, int nrPages, int owner, long generation) {
      return 0;
    }
  };

  /**
   * Writes pages {@code pfn .. pfn + nrPages - 1}, just allocated by the workload.
   *
   * @param owner the workload's owner word for the block
   * @param generation a number that no earlier write of this workload used
   */
  void write(int pfn, int nrPages, int owner, long generation);

  /**
   * Checks pages {@code pfn .. pfn + nrPages - 1} against what {@link #write} put there, just
   * before the workload frees them.
   *
   * @return the number of pages whose content is not what was written (0 when all are intact)
   */
  int verify(int pfn, int nrPages, int owner, long generation);
}
