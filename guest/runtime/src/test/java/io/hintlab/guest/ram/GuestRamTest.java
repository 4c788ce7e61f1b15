package io.hintlab.guest.ram;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.proto.v1.AttachRequest;
import io.hintlab.proto.v1.AttachResponse;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GuestRam against files laid out as the host lays them out (device.proto AttachResponse; host
 * GuestMemory and DirtyLog), with the host's actions (punching holes, fetch-and-clearing the dirty
 * log) played by the test through separate descriptors and mappings.
 */
class GuestRamTest {
  private static final int PAGE = 4096;
  /** Not a multiple of 64, so the dirty log's last word is partly used. */
  private static final long PAGES = 1000;

  private static final ValueLayout.OfLong LONG_LE =
      ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle WORD = LONG_LE.varHandle();

  @TempDir Path dir;

  private record HostFiles(Path ram, Path log) {}

  /** The host's format: a sparse RAM file and a dirty log of whole little-endian 64-bit words. */
  private HostFiles hostFiles(String name, long pages) throws IOException {
    Path ram = dir.resolve(name + ".ram");
    Path log = dir.resolve(name + ".dirty");
    try (var raf = new RandomAccessFile(ram.toFile(), "rw")) {
      raf.setLength(pages * PAGE);
    }
    try (var raf = new RandomAccessFile(log.toFile(), "rw")) {
      raf.setLength((pages + 63) / 64 * 8);
    }
    return new HostFiles(ram, log);
  }

  private GuestRam map(HostFiles f, long pages, GuestRam.Options options) throws IOException {
    return GuestRam.map(f.ram(), f.log(), pages * PAGE, PAGE, options);
  }

  /** Reads the dirty log through its own mapping, as the host does (bit pfn&63, word pfn>>6). */
  private static BitSet dirtyBits(Path log) throws IOException {
    BitSet bits = new BitSet();
    try (Arena arena = Arena.ofConfined();
        FileChannel ch = FileChannel.open(log, StandardOpenOption.READ)) {
      MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
      for (long w = 0; w < seg.byteSize() / 8; w++) {
        long word = seg.get(LONG_LE, w * 8);
        for (int b = 0; b < 64; b++) {
          if ((word & (1L << b)) != 0) {
            bits.set((int) (w * 64 + b));
          }
        }
      }
    }
    return bits;
  }

  private static byte[] readPage(Path ram, long pfn) throws IOException {
    try (FileChannel ch = FileChannel.open(ram, StandardOpenOption.READ)) {
      ByteBuffer buf = ByteBuffer.allocate(PAGE);
      while (buf.hasRemaining()) {
        if (ch.read(buf, pfn * PAGE + buf.position()) < 0) {
          throw new IOException("short read");
        }
      }
      return buf.array();
    }
  }

  /** Overwrites bytes behind the guest's back through a separate FileChannel. */
  private static void overwrite(Path ram, long offset, byte[] bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(ram, StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        ch.write(buf, offset + buf.position());
      }
    }
  }

  private static int owner(long pfn) {
    return (int) (0x0400_0000L | (pfn * 7 & 0x3FF_FFFF));
  }

  private static long[] distinctPfns(SplittableRandom rnd, int n, long pages) {
    BitSet chosen = new BitSet();
    while (chosen.cardinality() < n) {
      chosen.set((int) rnd.nextLong(pages));
    }
    return chosen.stream().asLongStream().toArray();
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 7, 42, 2026})
  void shouldVerifyWhatWasWrittenAcrossPages(long seed) throws IOException {
    SplittableRandom rnd = new SplittableRandom(seed);
    HostFiles f = hostFiles("w", PAGES);
    long[] pfns = distinctPfns(rnd, 300, PAGES);
    int[] owners = new int[pfns.length];
    long[] gens = new long[pfns.length];
    try (GuestRam ram = map(f, PAGES, GuestRam.Options.DEFAULTS)) {
      for (int i = 0; i < pfns.length; i++) {
        owners[i] = rnd.nextInt();
        gens[i] = rnd.nextLong();
        ram.writePage(pfns[i], owners[i], gens[i]);
      }
      for (int i = 0; i < pfns.length; i++) {
        assertEquals(PageCheck.OK, ram.verifyPage(pfns[i], owners[i], gens[i]),
            "seed " + seed + " pfn " + pfns[i]);
      }
      // A new generation replaces the old one.
      for (int i = 0; i < pfns.length; i += 2) {
        ram.writePage(pfns[i], owners[i], gens[i] + 1);
        assertEquals(PageCheck.OK, ram.verifyPage(pfns[i], owners[i], gens[i] + 1),
            "seed " + seed + " pfn " + pfns[i]);
      }
      int rewritten = (pfns.length + 1) / 2;
      assertEquals(
          new RamCounters(pfns.length + rewritten, pfns.length + rewritten, 0, 0, 0, 0),
          ram.counters(), "seed " + seed);
    }
  }

  @Test
  void shouldLayTheStampOutAsDocumented() throws IOException {
    HostFiles f = hostFiles("layout", 16);
    try (GuestRam ram = map(f, 16, GuestRam.Options.DEFAULTS)) {
      ram.writePage(5, 0x1234_5678, 77);
    }
    ByteBuffer page = ByteBuffer.wrap(readPage(f.ram(), 5)).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(5, page.getLong(0));
    assertEquals(0x1234_5678, page.getInt(8));
    assertEquals("HLST", new String(readPage(f.ram(), 5), 12, 4, StandardCharsets.US_ASCII));
    assertEquals(77, page.getLong(16));
    long sum = GuestRam.checksum(5, 0x1234_5678, 77);
    assertNotEquals(0, sum);
    assertEquals(sum, page.getLong(24));
    for (int i = GuestRam.STAMP_BYTES; i < PAGE; i++) {
      assertEquals(0, page.get(i), "without the pattern the rest stays untouched, byte " + i);
    }
    assertNotEquals(0, GuestRam.checksum(0, 0, 0), "a zero stamp never verifies");
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {3, 11, 99})
  void shouldReportAPunchedPageAsALostWriteWithItsPfn(long seed) throws IOException {
    SplittableRandom rnd = new SplittableRandom(seed);
    HostFiles f = hostFiles("punch", PAGES);
    long[] written = distinctPfns(rnd, 200, PAGES);
    try (GuestRam ram = map(f, PAGES, GuestRam.Options.DEFAULTS)) {
      for (long pfn : written) {
        ram.writePage(pfn, owner(pfn), pfn + seed);
      }
      // The host discards some of them while the guest still holds them.
      BitSet punched = new BitSet();
      int fd = TestLibc.open(f.ram());
      try {
        for (long pfn : written) {
          if (rnd.nextInt(10) == 0) {
            TestLibc.punchHole(fd, pfn * PAGE, PAGE);
            punched.set((int) pfn);
          }
        }
      } finally {
        TestLibc.close(fd);
      }
      assertTrue(punched.cardinality() > 0, "seed " + seed);
      List<Long> lost = new ArrayList<>();
      for (long pfn : written) {
        PageCheck c = ram.verifyPage(pfn, owner(pfn), pfn + seed);
        assertEquals(punched.get((int) pfn) ? PageCheck.LOST_WRITE : PageCheck.OK, c,
            "seed " + seed + " pfn " + pfn);
        if (c == PageCheck.LOST_WRITE) {
          lost.add(pfn);
        }
      }
      assertEquals(punched.cardinality(), ram.lostWrites(), "seed " + seed);
      assertEquals(0, ram.corruptPages(), "seed " + seed);
      List<BadPage> samples = ram.lostWriteSamples();
      assertEquals(lost.size(), samples.size(), "seed " + seed);
      for (int i = 0; i < samples.size(); i++) {
        BadPage b = samples.get(i);
        long pfn = lost.get(i);
        assertEquals(new BadPage(pfn, owner(pfn), pfn + seed, PageCheck.LOST_WRITE, 0, 0, 0, false),
            b, "seed " + seed);
        assertTrue(b.describe().contains("pfn " + pfn + ": lost write"), b.describe());
      }
    }
  }

  @Test
  void shouldReportAPageZeroedThroughAnotherChannelAsLost() throws IOException {
    HostFiles f = hostFiles("zero", 64);
    try (GuestRam ram = map(f, 64, GuestRam.Options.DEFAULTS)) {
      ram.writePage(9, 1, 1);
      ram.writePage(10, 1, 1);
      overwrite(f.ram(), 9L * PAGE, new byte[PAGE]);
      assertEquals(PageCheck.LOST_WRITE, ram.verifyPage(9, 1, 1));
      assertEquals(PageCheck.OK, ram.verifyPage(10, 1, 1));
      assertEquals(9, ram.lostWriteSamples().getFirst().pfn());
    }
  }

  @Test
  void shouldKeepOnlyTheFirstSamplesButCountEveryLostWrite() throws IOException {
    HostFiles f = hostFiles("cap", 64);
    try (GuestRam ram = map(f, 64, GuestRam.Options.DEFAULTS.withMaxSamples(3))) {
      for (long pfn = 0; pfn < 5; pfn++) {
        ram.writePage(pfn, 2, 3);
      }
      overwrite(f.ram(), 0, new byte[5 * PAGE]);
      for (long pfn = 0; pfn < 5; pfn++) {
        assertEquals(PageCheck.LOST_WRITE, ram.verifyPage(pfn, 2, 3));
      }
      assertEquals(5, ram.lostWrites());
      assertEquals(List.of(0L, 1L, 2L),
          ram.lostWriteSamples().stream().map(BadPage::pfn).toList());
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {5, 6, 8})
  void shouldReportGarbageTornForeignAndStalePagesAsCorruptNotLost(long seed) throws IOException {
    SplittableRandom rnd = new SplittableRandom(seed);
    HostFiles f = hostFiles("garbage", 64);
    try (GuestRam ram = map(f, 64, GuestRam.Options.DEFAULTS)) {
      for (long pfn = 0; pfn < 8; pfn++) {
        ram.writePage(pfn, owner(pfn), 1);
      }
      byte[] garbage = new byte[PAGE];
      for (int i = 0; i < PAGE; i++) {
        garbage[i] = (byte) rnd.nextInt();
      }
      overwrite(f.ram(), 1L * PAGE, garbage); // garbage
      int tornAt = 16 + rnd.nextInt(16); // generation or checksum: a half-written stamp
      byte[] page2 = readPage(f.ram(), 2);
      overwrite(f.ram(), 2L * PAGE + tornAt, new byte[] {(byte) (page2[tornAt] ^ 0x10)});
      overwrite(f.ram(), 3L * PAGE, readPage(f.ram(), 4)); // another page's stamp
      byte[] gen1 = readPage(f.ram(), 5);
      ram.writePage(5, owner(5), 2);
      overwrite(f.ram(), 5L * PAGE, gen1); // a stale copy of generation 1
      assertEquals(PageCheck.OK, ram.verifyPage(0, owner(0), 1), "seed " + seed);
      assertEquals(PageCheck.CORRUPT, ram.verifyPage(1, owner(1), 1), "seed " + seed);
      assertEquals(PageCheck.CORRUPT, ram.verifyPage(2, owner(2), 1), "seed " + seed);
      assertEquals(PageCheck.CORRUPT, ram.verifyPage(3, owner(3), 1), "seed " + seed);
      assertEquals(PageCheck.CORRUPT, ram.verifyPage(5, owner(5), 2), "seed " + seed);
      assertEquals(PageCheck.CORRUPT, ram.verifyPage(6, owner(6), 2), "wrong expectation");
      assertEquals(0, ram.lostWrites(), "seed " + seed);
      assertEquals(5, ram.corruptPages(), "seed " + seed);
      List<BadPage> s = ram.corruptPageSamples();
      assertEquals(List.of(1L, 2L, 3L, 5L, 6L), s.stream().map(BadPage::pfn).toList());
      assertFalse(s.get(0).foundStampValid(), "garbage, seed " + seed);
      assertFalse(s.get(1).foundStampValid(), "torn, seed " + seed);
      assertTrue(s.get(2).foundStampValid(), "foreign, seed " + seed);
      assertEquals(4, s.get(2).foundPfn(), "foreign, seed " + seed);
      assertEquals(owner(4), s.get(2).foundOwner(), "foreign, seed " + seed);
      assertTrue(s.get(3).foundStampValid(), "stale, seed " + seed);
      assertEquals(1, s.get(3).foundGeneration(), "stale, seed " + seed);
      assertEquals(2, s.get(3).expectedGeneration(), "stale, seed " + seed);
      assertTrue(s.get(3).describe().contains("found a valid stamp of pfn 5"), s.get(3).describe());
    }
  }

  @Test
  void shouldSeeDamageAnywhereInThePageOnlyWithThePatternOption() throws IOException {
    HostFiles f = hostFiles("pattern", 64);
    try (GuestRam plain = map(f, 64, GuestRam.Options.DEFAULTS)) {
      plain.writePage(1, 9, 9);
      overwrite(f.ram(), PAGE + 2000, new byte[] {1});
      assertEquals(PageCheck.OK, plain.verifyPage(1, 9, 9), "the stamp alone misses it");
    }
    try (GuestRam filled = map(f, 64, GuestRam.Options.DEFAULTS.withFillPattern(true))) {
      filled.writePage(2, 9, 9);
      filled.writePage(3, 9, 9);
      byte[] page = readPage(f.ram(), 2);
      int nonZero = 0;
      for (int i = GuestRam.STAMP_BYTES; i < PAGE; i++) {
        nonZero += page[i] != 0 ? 1 : 0;
      }
      assertTrue(nonZero > PAGE / 2, "the pattern fills the page: " + nonZero + " non-zero bytes");
      assertEquals(PageCheck.OK, filled.verifyPage(2, 9, 9));
      overwrite(f.ram(), 2L * PAGE + 2000, new byte[] {(byte) (page[2000] ^ 1)});
      assertEquals(PageCheck.CORRUPT, filled.verifyPage(2, 9, 9));
      assertEquals(PageCheck.OK, filled.verifyPage(3, 9, 9));
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {13, 17})
  void shouldSetDirtyBitsExactlyForWrittenPages(long seed) throws IOException {
    SplittableRandom rnd = new SplittableRandom(seed);
    HostFiles f = hostFiles("dirty", PAGES);
    assertEquals(128, Files.size(f.log()), "1000 pages take 16 whole words");
    long[] pfns = distinctPfns(rnd, 150, PAGES);
    BitSet expected = new BitSet();
    try (GuestRam ram = map(f, PAGES, GuestRam.Options.DEFAULTS)) {
      assertEquals(new BitSet(), dirtyBits(f.log()), "seed " + seed);
      for (long pfn : pfns) {
        ram.writePage(pfn, 1, 1);
        expected.set((int) pfn);
      }
      ram.writePage(PAGES - 1, 1, 1); // the last page: bit 39 of the last word
      expected.set((int) PAGES - 1);
      assertEquals(expected, dirtyBits(f.log()), "seed " + seed);
    }
    assertEquals(expected, dirtyBits(f.log()), "the log is the file's, after unmapping too");
  }

  @Test
  void shouldKeepEveryDirtyBitUnderConcurrentWritersAndAHostClearingTheLog() throws Exception {
    final int writers = 4;
    HostFiles f = hostFiles("conc", PAGES);
    Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
    BitSet harvested = new BitSet();
    try (GuestRam ram = map(f, PAGES, GuestRam.Options.DEFAULTS);
        Arena hostArena = Arena.ofShared();
        FileChannel ch = FileChannel.open(f.log(), StandardOpenOption.READ,
            StandardOpenOption.WRITE)) {
      MemorySegment hostLog = ch.map(FileChannel.MapMode.READ_WRITE, 0, ch.size(), hostArena);
      CountDownLatch start = new CountDownLatch(1);
      AtomicBoolean writing = new AtomicBoolean(true);
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < writers; t++) {
        final int id = t;
        // Writer t takes pfns congruent to t, so every dirty word is shared by all writers.
        threads.add(new Thread(() -> {
          try {
            start.await();
            for (long pfn = id; pfn < PAGES; pfn += writers) {
              ram.writePage(pfn, owner(pfn), 1); // once: a lost bit cannot come back
            }
          } catch (Throwable e) {
            errors.add(e);
          }
        }, "ram-writer-" + t));
      }
      // The host's sync: atomic fetch-and-clear of each word while the writers run.
      Thread host = new Thread(() -> {
        try {
          start.await();
          while (writing.get()) {
            harvest(hostLog, harvested);
          }
        } catch (Throwable e) {
          errors.add(e);
        }
      }, "ram-host-sync");
      threads.forEach(Thread::start);
      host.start();
      start.countDown();
      for (Thread t : threads) {
        t.join(10_000);
        assertFalse(t.isAlive(), t.getName() + " did not finish");
      }
      writing.set(false);
      host.join(10_000);
      assertFalse(host.isAlive(), "ram-host-sync did not finish");
      assertTrue(errors.isEmpty(), () -> "errors: " + errors);
      harvest(hostLog, harvested); // what the last sync finds
      BitSet all = new BitSet();
      all.set(0, (int) PAGES);
      assertEquals(all, harvested, "a bit was lost or one past the last pfn was set");
      assertEquals(PAGES, ram.writes());
      for (long pfn = 0; pfn < PAGES; pfn++) {
        assertEquals(PageCheck.OK, ram.verifyPage(pfn, owner(pfn), 1), "pfn " + pfn);
      }
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {31, 32})
  void shouldLoseNoDirtyBitWhenWritersShareEveryWordRoundAfterRound(long seed) throws Exception {
    final int writers = 4;
    final int rounds = 2000;
    final long pages = 256; // 4 words, 16 pages of each word per writer
    HostFiles f = hostFiles("rounds", pages);
    Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
    List<String> badRounds = new ArrayList<>();
    try (GuestRam ram = map(f, pages, GuestRam.Options.DEFAULTS);
        Arena hostArena = Arena.ofShared();
        FileChannel ch = FileChannel.open(f.log(), StandardOpenOption.READ,
            StandardOpenOption.WRITE)) {
      MemorySegment hostLog = ch.map(FileChannel.MapMode.READ_WRITE, 0, ch.size(), hostArena);
      BitSet all = new BitSet();
      all.set(0, (int) pages);
      int[] round = {0};
      // Between rounds, with every writer parked, the host syncs: all pages, nothing more.
      CyclicBarrier barrier = new CyclicBarrier(writers, () -> {
        BitSet got = new BitSet();
        harvest(hostLog, got);
        if (round[0] > 0 && !got.equals(all)) {
          BitSet missing = (BitSet) all.clone();
          missing.andNot(got);
          badRounds.add("round " + round[0] + " lost " + missing);
        }
        round[0]++;
      });
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < writers; t++) {
        // Each writer walks its pages in its own seeded order, so the words are hit in many ways.
        long[] mine = new long[(int) pages / writers];
        for (int i = 0; i < mine.length; i++) {
          mine[i] = (long) i * writers + t;
        }
        SplittableRandom rnd = new SplittableRandom(seed * 31 + t);
        threads.add(new Thread(() -> {
          try {
            for (int r = 1; r <= rounds; r++) {
              barrier.await(10, TimeUnit.SECONDS);
              for (int i = mine.length - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1);
                long x = mine[i];
                mine[i] = mine[j];
                mine[j] = x;
              }
              for (long pfn : mine) {
                ram.writePage(pfn, owner(pfn), r);
              }
            }
            barrier.await(10, TimeUnit.SECONDS);
          } catch (Throwable e) {
            errors.add(e);
          }
        }, "ram-round-writer-" + t));
      }
      threads.forEach(Thread::start);
      for (Thread t : threads) {
        t.join(10_000);
        assertFalse(t.isAlive(), t.getName() + " did not finish, seed " + seed);
      }
      assertTrue(errors.isEmpty(), () -> "seed " + seed + " errors: " + errors);
      assertEquals(List.of(), badRounds, "seed " + seed);
      assertEquals(rounds + 1, round[0], "seed " + seed);
      assertEquals(pages * rounds, ram.writes(), "seed " + seed);
    }
  }

  private static void harvest(MemorySegment log, BitSet into) {
    for (long w = 0; w < log.byteSize() / 8; w++) {
      long bits = (long) WORD.getAndSet(log, w * 8, 0L);
      while (bits != 0) {
        into.set((int) (w * 64 + Long.numberOfTrailingZeros(bits)));
        bits &= bits - 1;
      }
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {21, 22})
  void shouldFillPoisonedPagesAndMarkThemDirty(long seed) throws IOException {
    SplittableRandom rnd = new SplittableRandom(seed);
    int poison = rnd.nextInt() | 1;
    HostFiles f = hostFiles("poison", 64);
    try (GuestRam ram = map(f, 64, GuestRam.Options.DEFAULTS)) {
      for (long pfn = 0; pfn < 20; pfn++) {
        ram.writePage(pfn, owner(pfn), 1);
      }
      ram.poisonPage(3, poison);
      ram.poisonPages(8, 8, poison); // an order-3 block
      ram.poisonPage(40, 0); // never written, poison 0 = zeros
      ram.writePage(41, 1, 1);
      ram.poisonPage(41, 0);
      for (long pfn : new long[] {3, 8, 12, 15}) {
        ByteBuffer page = ByteBuffer.wrap(readPage(f.ram(), pfn)).order(ByteOrder.LITTLE_ENDIAN);
        for (int off = 0; off < PAGE; off += 4) {
          assertEquals(poison, page.getInt(off), "seed " + seed + " pfn " + pfn + " offset " + off);
        }
      }
      assertArrayEquals(new byte[PAGE], readPage(f.ram(), 41), "seed " + seed);
      for (long pfn : new long[] {2, 4, 7, 16}) {
        assertEquals(PageCheck.OK, ram.verifyPage(pfn, owner(pfn), 1), "neighbour " + pfn);
      }
      assertEquals(11, ram.poisonedPages());
      BitSet dirty = dirtyBits(f.log());
      for (int pfn : new int[] {3, 8, 15, 40, 41}) {
        assertTrue(dirty.get(pfn), "seed " + seed + " pfn " + pfn + " dirty");
      }
      assertEquals(22, dirty.cardinality(), "pages 0..19, 40 and 41");
    }
  }

  /** The host's fetch-and-clear of every dirty-log word (a migration's bitmap sync). */
  private static void clearDirty(Path log) throws IOException {
    try (Arena arena = Arena.ofConfined();
        FileChannel ch = FileChannel.open(log, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      MemorySegment seg = ch.map(FileChannel.MapMode.READ_WRITE, 0, ch.size(), arena);
      for (long off = 0; off < seg.byteSize(); off += 8) {
        long unused = (long) WORD.getAndSet(seg, off, 0L);
      }
    }
  }

  /**
   * init_on_alloc's zeroing: seeded ranges of every alignment and length (word-crossing, whole
   * words, the partial last word) read back as zeros, exactly their pages become dirty (read as
   * the host reads the log), and the stamped pages around them are untouched.
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {31, 32, 33, 34})
  void shouldZeroPagesAndDirtyExactlyThemWordByWord(long seed) throws IOException {
    SplittableRandom rnd = new SplittableRandom(seed);
    HostFiles f = hostFiles("zero", PAGES);
    try (GuestRam ram = map(f, PAGES, GuestRam.Options.DEFAULTS)) {
      for (long pfn = 0; pfn < PAGES; pfn++) {
        ram.writePage(pfn, owner(pfn), 3);
      }
      clearDirty(f.log());
      BitSet zeroed = new BitSet();
      long total = 0;
      long[][] ranges = {{0, 64}, {PAGES - 40, 40}, {63, 2}, {128, 1}};
      for (long[] r : ranges) {
        ram.zeroPages(r[0], r[1]);
        zeroed.set((int) r[0], (int) (r[0] + r[1]));
        total += r[1];
      }
      for (int i = 0; i < 6; i++) {
        long n = 1 + rnd.nextLong(200);
        long pfn = rnd.nextLong(PAGES - n + 1);
        ram.zeroPages(pfn, n);
        zeroed.set((int) pfn, (int) (pfn + n));
        total += n;
      }
      ram.zeroPages(500, 0); // an empty range: nothing
      String at = "seed " + seed;
      assertEquals(zeroed, dirtyBits(f.log()), at + ": exactly the zeroed pages are dirty");
      for (long pfn = 0; pfn < PAGES; pfn++) {
        if (zeroed.get((int) pfn)) {
          assertArrayEquals(new byte[PAGE], readPage(f.ram(), pfn), at + " pfn " + pfn);
        } else {
          assertEquals(PageCheck.OK, ram.verifyPage(pfn, owner(pfn), 3), at + " pfn " + pfn);
        }
      }
      assertEquals(total, ram.zeroedPages(), at + ": every zeroed page counted");
      assertEquals(total, ram.counters().zeroedPages(), at);
      assertEquals(0, ram.lostWrites() + ram.corruptPages(), at);
    }
  }

  @Test
  void shouldMapAMemfdThroughProcFd() throws IOException {
    long pages = 256;
    int fd = TestLibc.memfd("hintlab-ram-test", pages * PAGE);
    try {
      String pid = Long.toString(ProcessHandle.current().pid());
      Path ramPath = Path.of("/proc", pid, "fd", Integer.toString(fd)); // as the host names it
      Path log = dir.resolve("memfd.dirty");
      try (var raf = new RandomAccessFile(log.toFile(), "rw")) {
        raf.setLength(GuestRam.dirtyLogBytes(pages));
      }
      try (GuestRam ram = GuestRam.map(ramPath, log, pages * PAGE, PAGE,
          GuestRam.Options.DEFAULTS)) {
        for (long pfn = 0; pfn < pages; pfn += 3) {
          ram.writePage(pfn, owner(pfn), 4);
        }
        TestLibc.punchHole(fd, 30L * PAGE, 2L * PAGE); // pages 30 and 31
        for (long pfn = 0; pfn < pages; pfn += 3) {
          assertEquals(pfn == 30 ? PageCheck.LOST_WRITE : PageCheck.OK,
              ram.verifyPage(pfn, owner(pfn), 4), "pfn " + pfn);
        }
        assertEquals(1, ram.lostWrites());
        assertEquals((pages + 2) / 3, dirtyBits(log).cardinality());
      }
      assertThrows(IOException.class, () -> GuestRam.map(ramPath, log, 2 * pages * PAGE, PAGE,
          GuestRam.Options.DEFAULTS), "a memfd of the wrong size is refused too");
    } finally {
      TestLibc.close(fd);
    }
  }

  @Test
  void shouldMapWhatAnAttachAnnounced() throws IOException {
    HostFiles f = hostFiles("attach", 128);
    AttachRequest req = AttachRequest.newBuilder().setMemoryBytes(128L * PAGE).setPageSize(PAGE)
        .build();
    AttachResponse resp = AttachResponse.newBuilder().setRamPath(f.ram().toString())
        .setDirtyLogPath(f.log().toString()).build();
    try (GuestRam ram = GuestRam.map(req, resp, GuestRam.Options.DEFAULTS)) {
      assertEquals(128, ram.pages());
      assertEquals(PAGE, ram.pageSize());
      assertEquals(128L * PAGE, ram.memoryBytes());
      assertEquals(f.ram(), ram.ramPath());
      assertEquals(f.log(), ram.dirtyLogPath());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GuestRam.map(req, resp.toBuilder().clearRamPath().build(),
            GuestRam.Options.DEFAULTS));
    assertTrue(e.getMessage().contains("no RAM file"), e.getMessage());
  }

  @Test
  void shouldRefuseFilesOfAnotherSizeNamingFileAndSizes() throws IOException {
    HostFiles f = hostFiles("size", PAGES);
    // RAM one page short of what the attach announced.
    IOException shortRam = assertThrows(IOException.class,
        () -> GuestRam.map(f.ram(), f.log(), (PAGES + 1) * PAGE, PAGE, GuestRam.Options.DEFAULTS));
    assertMentions(shortRam, f.ram().toString(), "RAM file", Long.toString(PAGES * PAGE),
        Long.toString((PAGES + 1) * PAGE));
    // RAM longer than announced (the log's size matches 999 pages too: 16 words).
    IOException longRam = assertThrows(IOException.class,
        () -> GuestRam.map(f.ram(), f.log(), (PAGES - 1) * PAGE, PAGE, GuestRam.Options.DEFAULTS));
    assertMentions(longRam, f.ram().toString(), Long.toString(PAGES * PAGE));
    // A dirty log sized in bytes (125) rather than whole words (128).
    try (var raf = new RandomAccessFile(f.log().toFile(), "rw")) {
      raf.setLength(PAGES / 8);
    }
    IOException badLog = assertThrows(IOException.class,
        () -> map(f, PAGES, GuestRam.Options.DEFAULTS));
    assertMentions(badLog, f.log().toString(), "dirty log", "125 bytes", "128 bytes", "1000 pages");
    IOException missing = assertThrows(IOException.class, () -> GuestRam.map(
        dir.resolve("nope.ram"), f.log(), PAGES * PAGE, PAGE, GuestRam.Options.DEFAULTS));
    assertMentions(missing, "nope.ram", "does not exist");
  }

  private static void assertMentions(Exception e, String... parts) {
    for (String p : parts) {
      assertTrue(e.getMessage().contains(p), "'" + e.getMessage() + "' should mention " + p);
    }
  }

  @Test
  void shouldRefuseBadArguments() throws IOException {
    HostFiles f = hostFiles("args", 64);
    assertMentions(assertThrows(IllegalArgumentException.class,
        () -> GuestRam.map(f.ram(), f.log(), 64L * PAGE, 3000, GuestRam.Options.DEFAULTS)),
        "power of two", "3000");
    assertMentions(assertThrows(IllegalArgumentException.class,
        () -> GuestRam.map(f.ram(), f.log(), 64L * PAGE + 1, PAGE, GuestRam.Options.DEFAULTS)),
        "multiple", Long.toString(64L * PAGE + 1));
    assertThrows(IllegalArgumentException.class,
        () -> GuestRam.map(f.ram(), f.log(), 0, PAGE, GuestRam.Options.DEFAULTS));
    assertThrows(IllegalArgumentException.class, () -> new GuestRam.Options(false, -1));
    try (GuestRam ram = map(f, 64, GuestRam.Options.DEFAULTS)) {
      assertMentions(assertThrows(IllegalArgumentException.class, () -> ram.writePage(64, 1, 1)),
          "pfn 64", "[0, 64)");
      assertThrows(IllegalArgumentException.class, () -> ram.writePage(-1, 1, 1));
      assertThrows(IllegalArgumentException.class, () -> ram.verifyPage(64, 1, 1));
      assertThrows(IllegalArgumentException.class, () -> ram.poisonPages(60, 5, 1));
      assertMentions(assertThrows(IllegalArgumentException.class, () -> ram.zeroPages(60, 5)),
          "[60, +5)", "[0, 64)");
      assertThrows(IllegalArgumentException.class, () -> ram.zeroPages(-1, 1));
      assertEquals(new RamCounters(0, 0, 0, 0, 0, 0), ram.counters(),
          "refused calls count nothing");
    }
  }

  @Test
  void shouldUnmapOnCloseAndLeaveTheHostsFiles() throws IOException {
    HostFiles f = hostFiles("close", 64);
    GuestRam ram = map(f, 64, GuestRam.Options.DEFAULTS);
    ram.writePage(0, 1, 1);
    ram.close();
    assertTrue(ram.isClosed());
    ram.close(); // idempotent
    assertThrows(IllegalStateException.class, () -> ram.writePage(1, 1, 1));
    assertThrows(IllegalStateException.class, () -> ram.verifyPage(0, 1, 1));
    assertTrue(Files.exists(f.ram()) && Files.exists(f.log()));
    try (GuestRam again = map(f, 64, GuestRam.Options.DEFAULTS)) {
      assertEquals(PageCheck.OK, again.verifyPage(0, 1, 1), "the data is in the file");
    }
  }
}
