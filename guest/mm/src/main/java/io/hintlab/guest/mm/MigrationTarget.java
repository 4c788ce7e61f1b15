package io.hintlab.guest.mm;

/**
 * Where migration gets its target blocks and returns unused ones: the model's {@code new_folio_t}
 * / {@code free_folio_t} pair of migrate_pages() (compaction_alloc()/compaction_free(),
 * alloc_migration_target()).
 */
public interface MigrationTarget {
  /**
   * Allocates a target for a block of order being migrated away from src.
   *
   * @return the target's pfn, an allocated block of that order with no owner, or -1
   */
  int alloc(int order, int src);

  /** Takes back a target that was not used. */
  void free(int pfn, int order);

  /**
   * alloc_migration_target(): a fresh movable allocation on cpu, freed back to the allocator when
   * unused.
   */
  static MigrationTarget allocator(PageAllocator a, int cpu) {
    return new MigrationTarget() {
      @Override
      public int alloc(int order, int src) {
        return a.allocPages(cpu, order, Gfp.GFP_HIGHUSER_MOVABLE | Gfp.__GFP_NOWARN);
      }

      @Override
      public void free(int pfn, int order) {
        a.freeOwnedBlock(cpu, pfn, order);
      }
    };
  }
}
