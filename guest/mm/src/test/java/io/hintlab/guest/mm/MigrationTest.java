package io.hintlab.guest.mm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Migration of one movable block (mm/migrate.c migrate_pages(), movable_operations). */
class MigrationTest {

  /** An owner whose answers the test scripts. */
  static final class ScriptedOwner implements MovableOps {
    boolean allowIsolate = true;
    int migrateResult = MIGRATEPAGE_SUCCESS;
    int isolated;
    int putBack;
    int where = -1;

    @Override
    public boolean isolatePage(int pfn, int order, int handle) {
      if (allowIsolate) {
        isolated++;
      }
      return allowIsolate;
    }

    @Override
    public int migratePage(int dst, int src, int order, int handle) {
      if (migrateResult == MIGRATEPAGE_SUCCESS) {
        where = dst;
      }
      return migrateResult;
    }

    @Override
    public void putbackPage(int pfn, int order, int handle) {
      putBack++;
    }
  }

  private final PageAllocator a = new PageAllocator(MmConfig.forMemory(64L << 20));
  private final ScriptedOwner owner = new ScriptedOwner();
  private final int cls = a.owners().register(owner, false);

  @Test
  void shouldMoveTheBlockCopyItAndTellTheOwner() {
    int[] copied = {-1, -1};
    a.setPageCopier((dst, src, order) -> {
      copied[0] = dst;
      copied[1] = src;
    });
    int src = a.allocPages(0, 2, Gfp.GFP_HIGHUSER_MOVABLE, PageOwners.owner(cls, 7));
    assertEquals(0, Migration.migrateBlock(a, 0, src, MigrationTarget.allocator(a, 0)));
    int dst = owner.where;
    assertNotEquals(src, dst);
    assertEquals(dst, copied[0]);
    assertEquals(src, copied[1]);
    assertEquals(PageOwners.owner(cls, 7), a.memMap().owner(dst), "the owner word moves along");
    assertEquals(MemMap.K_ALLOC, a.memMap().kind(dst));
    assertEquals(2, a.memMap().order(dst));
    assertTrue(a.memMap().kind(src) != MemMap.K_ALLOC, "the source was freed");
    assertEquals(4, a.event(VmEvent.PGMIGRATE_SUCCESS), "pgmigrate counts pages");
    InvariantChecker.check(a);
  }

  @Test
  void shouldReportEagainWhenTheOwnerRefusesIsolation() {
    owner.allowIsolate = false;
    int src = a.allocPages(0, 0, Gfp.GFP_HIGHUSER_MOVABLE, PageOwners.owner(cls, 1));
    long free = a.freePages();
    assertEquals(-Errno.EAGAIN, Migration.migrateBlock(a, 0, src, MigrationTarget.allocator(a, 0)));
    assertEquals(MemMap.K_ALLOC, a.memMap().kind(src));
    assertEquals(free, a.freePages(), "no target was taken");
    assertEquals(0, a.event(VmEvent.PGMIGRATE_FAIL), "refused isolation is not a failed migration");
    InvariantChecker.check(a);
  }

  @Test
  void shouldPutBackAndFreeTheTargetOnAPermanentFailure() {
    owner.migrateResult = -Errno.EBUSY;
    int src = a.allocPages(0, 0, Gfp.GFP_HIGHUSER_MOVABLE, PageOwners.owner(cls, 1));
    a.drainAllPages(null);
    long free = a.freePages();
    assertEquals(-Errno.EBUSY, Migration.migrateBlock(a, 0, src, MigrationTarget.allocator(a, 0)));
    assertEquals(1, owner.putBack);
    assertEquals(MemMap.K_ALLOC, a.memMap().kind(src));
    a.drainAllPages(null);
    assertEquals(free, a.freePages(), "the unused target went back");
    assertEquals(1, a.event(VmEvent.PGMIGRATE_FAIL));
    InvariantChecker.check(a);
  }

  @Test
  void shouldRefuseUnmovableAndFreeBlocks() {
    int unmovable = a.allocPages(0, 0, Gfp.GFP_KERNEL);
    assertEquals(-Errno.EBUSY,
        Migration.migrateBlock(a, 0, unmovable, MigrationTarget.allocator(a, 0)));
    assertEquals(-Errno.EBUSY,
        Migration.migrateBlock(a, 0, a.zone(ZoneType.DMA32).startPfn() + 4096,
            MigrationTarget.allocator(a, 0)));
    InvariantChecker.check(a);
  }

  @Test
  void shouldReportEnomemWhenNoTargetCanBeHad() {
    int src = a.allocPages(0, 0, Gfp.GFP_HIGHUSER_MOVABLE, PageOwners.owner(cls, 3));
    MigrationTarget none = new MigrationTarget() {
      @Override
      public int alloc(int order, int from) {
        return -1;
      }

      @Override
      public void free(int pfn, int order) {}
    };
    assertEquals(-Errno.ENOMEM, Migration.migrateBlock(a, 0, src, none));
    assertEquals(1, owner.putBack);
    InvariantChecker.check(a);
  }
}
