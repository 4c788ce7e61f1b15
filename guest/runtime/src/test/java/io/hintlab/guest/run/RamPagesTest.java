package io.hintlab.guest.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.PageCopier;
import io.hintlab.guest.mm.VmEvent;
import io.hintlab.guest.ram.GuestRam;
import io.hintlab.guest.ram.PageCheck;
import io.hintlab.guest.workload.Workload;
import io.hintlab.guest.workload.WorkloadConfig;
import io.hintlab.guest.workload.WorkloadResult;
import io.hintlab.guest.workload.Workloads;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * RamPages over real guest RAM files: stamps on allocation, verification before free, and
 * migration, which must re-stamp a page at its new pfn (the stamp contains the pfn).
 */
class RamPagesTest {
  private static final int PAGE = 4096;
  private static final long MEMORY = 64L << 20;

  @TempDir Path dir;

  private GuestRam ram(long bytes) throws IOException {
    Path ram = dir.resolve("guest.ram");
    Path log = dir.resolve("guest.dirty");
    try (var f = new RandomAccessFile(ram.toFile(), "rw")) {
      f.setLength(bytes);
    }
    try (var f = new RandomAccessFile(log.toFile(), "rw")) {
      f.setLength(GuestRam.dirtyLogBytes(bytes / PAGE));
    }
    return GuestRam.map(ram, log, bytes, PAGE, GuestRam.Options.DEFAULTS);
  }

  @Test
  void migrationCarriesOwnerAndGenerationToTheNewPfn() throws IOException {
    try (GuestRam ram = ram(1L << 20)) {
      RamPages pages = RamPages.of(ram);
      pages.write(16, 4, 0x1234, 7);
      pages.copy(64, 16, 2);
      assertEquals(4, pages.migratedPages());
      assertEquals(0, pages.verify(64, 4, 0x1234, 7), "the block verifies at its new pfn");
      assertEquals(0, ram.lostWrites());
      assertEquals(0, ram.corruptPages());
      // The source still holds its own stamp, which names pfn 17: the same bytes at pfn 65 would
      // not verify, which is why the copier writes the page again instead of copying it.
      assertEquals(PageCheck.OK, ram.verifyPage(17, 0x1234, 7));
      assertEquals(PageCheck.CORRUPT, ram.verifyPage(65, 0x1234, 8));
    }
  }

  @Test
  void contentLostBeforeAMigrationIsCountedOnceAtTheSource() throws IOException {
    try (GuestRam ram = ram(1L << 20)) {
      RamPages pages = RamPages.of(ram);
      pages.write(8, 1, 5, 1);
      ram.poisonPage(8, 0); // the host zeroed a page the guest held: its content is gone
      pages.copy(40, 8, 0);
      assertEquals(1, ram.lostWrites(), "seen when the source is read for the copy");
      assertEquals(0, pages.verify(40, 1, 5, 1));
      assertEquals(1, ram.lostWrites(), "not counted again at the destination");
    }
  }

  @Test
  void poisoningFillsFreedAndMigratedAwayPages() throws IOException {
    try (GuestRam ram = ram(1L << 20)) {
      RamPages pages = RamPages.poisoning(ram, 0xaaaaaaaa);
      pages.write(0, 2, 1, 1);
      pages.write(2, 2, 2, 2);
      assertEquals(0, pages.verify(0, 2, 1, 1));
      pages.copy(32, 2, 1);
      assertEquals(4, ram.poisonedPages(), "the freed block and the migration's source");
      assertEquals(0, pages.verify(32, 2, 2, 2));
      assertEquals(0, ram.corruptPages());
    }
  }

  /** A workload whose movable pages contig allocations migrate out of the way. */
  private static Workload contig(PageAllocator pa, PageCopier copier, RamPages writer) {
    pa.setPageCopier(copier);
    return Workloads.create("contig", pa, 7, WorkloadConfig.DEFAULT
        .withArgs(Map.of("size", 1L << 20, "every", 100L, "hold", 250L)).withWriter(writer));
  }

  @ParameterizedTest(name = "seed={0}")
  @ValueSource(longs = {1, 7, 1234567})
  void migratedWorkloadPagesVerifyAtTheirNewPfn(long seed) throws IOException {
    PageAllocator pa = new PageAllocator(MmConfig.builder().memory(MEMORY).nrCpus(2).build());
    try (GuestRam ram = ram(GuestRun.ramBytes(pa.config()))) {
      RamPages pages = RamPages.of(ram);
      pa.setPageCopier(pages);
      Workload w = Workloads.create("contig", pa, seed, WorkloadConfig.DEFAULT
          .withArgs(Map.of("size", 1L << 20, "every", 100L, "hold", 250L)).withWriter(pages));
      WorkloadResult r = w.run(2000);
      w.releaseAll();
      String ctx = "seed " + seed + ": " + r.summary();
      assertTrue(pa.event(VmEvent.PGMIGRATE_SUCCESS) > 0, ctx + ": pages were migrated");
      assertTrue(pages.migratedPages() > 0, ctx);
      assertEquals(0, ram.lostWrites(), ctx);
      assertEquals(0, ram.corruptPages(), ctx);
      assertEquals(0, pages.heldPages(), ctx + ": every written page was verified");
      InvariantChecker.check(pa);
    }
  }

  @Test
  void withoutTheCopierMigratedPagesFailVerification() throws IOException {
    PageAllocator pa = new PageAllocator(MmConfig.builder().memory(MEMORY).nrCpus(2).build());
    try (GuestRam ram = ram(GuestRun.ramBytes(pa.config()))) {
      RamPages pages = RamPages.of(ram);
      Workload w = contig(pa, PageCopier.NONE, pages);
      w.run(2000);
      w.releaseAll();
      assertTrue(pa.event(VmEvent.PGMIGRATE_SUCCESS) > 0);
      assertTrue(ram.lostWrites() + ram.corruptPages() > 0,
          "the control: a migration that moves no content is caught");
    }
  }
}
