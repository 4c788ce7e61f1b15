package io.hintlab.guest.ram;

import io.hintlab.proto.v1.AttachRequest;
import io.hintlab.proto.v1.AttachResponse;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The guest's RAM: the host's RAM file and dirty-log file, both mapped shared read-write in one
 * shared {@link Arena} (device.proto {@code AttachResponse.ram_path} and {@code dirty_log_path}).
 *
 * <p><b>Page stamps.</b> {@link #writePage} stores a {@value #STAMP_BYTES}-byte stamp at the start
 * of the page, all fields little-endian:
 *
 * <pre>
 *   offset  size  field
 *        0     8  pfn
 *        8     4  owner word (the caller's, e.g. a PageOwners word)
 *       12     4  magic 0x54534C48 (the bytes "HLST")
 *       16     8  write generation
 *       24     8  checksum = {@link #checksum}(pfn, owner, generation), never 0
 * </pre>
 *
 * With {@link Options#fillPattern()} the rest of the page is filled with 64-bit words derived
 * from the checksum, so damage anywhere in the page is seen (slow: the whole page is written and
 * read). A stamp is never all zeros (the magic), so a page whose stamp reads as zeros lost its
 * content: {@link #verifyPage} returns {@link PageCheck#LOST_WRITE}. Any other mismatch, torn,
 * foreign, stale or garbage, is {@link PageCheck#CORRUPT}.
 *
 * <p><b>Dirty log.</b> After a page's content is written, its bit (bit {@code pfn & 63} of the
 * little-endian 64-bit word {@code pfn >> 6}) is set with an atomic {@code getAndBitwiseOr}: the
 * emulated MMU dirty bit. The OR has volatile semantics, so the host, which fetch-and-clears the
 * word before it copies or inspects the page, sees the content that made the page dirty.
 *
 * <p><b>Free pages are never read.</b> A read fault of a punched hole in a shared tmpfs or memfd
 * mapping allocates the page again and undoes the host's discard (toolchain.md §3.2). GuestRam
 * reads a page only in {@link #verifyPage}, which takes the owner and generation the caller wrote:
 * only the owner of an allocated page has them, so callers verify only pages they hold. Calling it
 * on a free page is a caller bug that would refault the page (and report a lost write).
 *
 * <p><b>Poison.</b> {@link #poisonPage} writes a 32-bit value over a whole page and sets its dirty
 * bit, as the Linux driver does with VIRTIO_BALLOON_F_PAGE_POISON before a freed page may be
 * reported.
 *
 * <p><b>Init on alloc.</b> {@link #zeroPages} zeroes a freshly allocated block and sets its dirty
 * bits, as {@code kernel_init_pages()} does with {@code init_on_alloc=1}: one bulk fill of the
 * mapped range and the dirty bits a 64-bit word at a time, so a 4 MiB hint block costs one
 * memset and 16 atomic ORs.
 *
 * <p><b>Note:</b> thread-safe for concurrent callers on different pages: a stamp belongs to one
 * page, dirty bits are set with atomic word operations, and the counters are atomic. Concurrent
 * calls on the same page are a caller bug (a reader may see a torn stamp, reported as corrupt).
 * {@link #close()} must not race with other calls: stop the workers first.
 */
public final class GuestRam implements AutoCloseable {
  /** Size of the stamp at the start of every written page. */
  public static final int STAMP_BYTES = 32;
  /** The stamp's magic, little-endian at offset 12: the bytes {@code "HLST"}. */
  public static final int STAMP_MAGIC = 0x54534C48;

  private static final ValueLayout.OfLong LONG_LE =
      ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfInt INT_LE =
      ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle DIRTY_WORD = LONG_LE.varHandle();
  /** Stamp word 1: owner in the low half, magic in the high half. */
  private static final long MAGIC_HIGH = (long) STAMP_MAGIC << 32;
  private static final long CHECKSUM_SEED = 0x6869_6E74_6C61_6231L; // "hintlab1"
  private static final long GOLDEN = 0x9E37_79B9_7F4A_7C15L;

  private final Path ramPath;
  private final Path dirtyLogPath;
  private final long pages;
  private final int pageSize;
  private final int pageShift;
  private final Options options;
  private final Arena arena;
  private final MemorySegment ram;
  private final MemorySegment dirtyLog;
  private final AtomicBoolean closed = new AtomicBoolean();

  private final LongAdder writes = new LongAdder();
  private final LongAdder verifies = new LongAdder();
  private final LongAdder poisoned = new LongAdder();
  private final LongAdder zeroed = new LongAdder();
  private final AtomicLong lostWrites = new AtomicLong();
  private final AtomicLong corruptPages = new AtomicLong();
  // Guarded by itself; only touched on the failure path.
  private final List<BadPage> lostSamples = new ArrayList<>();
  private final List<BadPage> corruptSamples = new ArrayList<>();

  /**
   * Options of a mapping.
   *
   * @param fillPattern fill the rest of each written page with a pattern derived from the stamp
   *     and check it on verify (slow: whole pages are written and read)
   * @param maxSamples how many lost writes, and separately how many corrupt pages, are kept for
   *     reports (the first ones); {@code >= 0}
   */
  public record Options(boolean fillPattern, int maxSamples) {
    /** Stamps only, 64 samples of each kind. */
    public static final Options DEFAULTS = new Options(false, 64);

    /** Checks the values. */
    public Options {
      if (maxSamples < 0) {
        throw new IllegalArgumentException("maxSamples must be >= 0, was " + maxSamples);
      }
    }

    /** A copy with {@code fillPattern} changed. */
    public Options withFillPattern(boolean fill) {
      return new Options(fill, maxSamples);
    }

    /** A copy with {@code maxSamples} changed. */
    public Options withMaxSamples(int samples) {
      return new Options(fillPattern, samples);
    }
  }

  private GuestRam(
      Path ramPath,
      Path dirtyLogPath,
      long pages,
      int pageSize,
      Options options,
      Arena arena,
      MemorySegment ram,
      MemorySegment dirtyLog) {
    this.ramPath = ramPath;
    this.dirtyLogPath = dirtyLogPath;
    this.pages = pages;
    this.pageSize = pageSize;
    this.pageShift = Integer.numberOfTrailingZeros(pageSize);
    this.options = options;
    this.arena = arena;
    this.ram = ram;
    this.dirtyLog = dirtyLog;
  }

  /**
   * Maps the files an attach announced: {@code resp.ram_path} and {@code resp.dirty_log_path},
   * sized by {@code req.memory_bytes} and {@code req.page_size}.
   *
   * @throws IllegalArgumentException if a path is empty or the sizes are invalid
   * @throws IOException if a file cannot be opened or mapped, or its size is not the announced one
   */
  public static GuestRam map(AttachRequest req, AttachResponse resp, Options options)
      throws IOException {
    if (resp.getRamPath().isEmpty() || resp.getDirtyLogPath().isEmpty()) {
      throw new IllegalArgumentException(
          "attach response names no RAM file or no dirty log (ram_path '" + resp.getRamPath()
              + "', dirty_log_path '" + resp.getDirtyLogPath() + "')");
    }
    return map(
        Path.of(resp.getRamPath()),
        Path.of(resp.getDirtyLogPath()),
        req.getMemoryBytes(),
        req.getPageSize(),
        options);
  }

  /**
   * Maps {@code ramPath} (a file, or a memfd as {@code /proc/<host pid>/fd/<n>}) and the dirty
   * log, both shared read-write.
   *
   * @param memoryBytes RAM size the attach announced: a positive multiple of {@code pageSize};
   *     the RAM file must be exactly this long
   * @param pageSize page size in bytes, a power of two of at least {@value #STAMP_BYTES}
   * @throws IllegalArgumentException if {@code memoryBytes} or {@code pageSize} is invalid
   * @throws IOException if a file cannot be opened or mapped, or its size is not the announced
   *     one (the dirty log must be exactly {@link #dirtyLogBytes}{@code (memoryBytes / pageSize)})
   */
  public static GuestRam map(
      Path ramPath, Path dirtyLogPath, long memoryBytes, int pageSize, Options options)
      throws IOException {
    if (pageSize < STAMP_BYTES || Integer.bitCount(pageSize) != 1) {
      throw new IllegalArgumentException(
          "page size must be a power of two >= " + STAMP_BYTES + ", was " + pageSize);
    }
    if (memoryBytes <= 0 || memoryBytes % pageSize != 0) {
      throw new IllegalArgumentException(
          "memory size must be a positive multiple of the page size " + pageSize + ", was "
              + memoryBytes);
    }
    if (options == null) {
      throw new IllegalArgumentException("options must not be null");
    }
    long pages = memoryBytes / pageSize;
    long logBytes = dirtyLogBytes(pages);
    Arena arena = Arena.ofShared();
    boolean ok = false;
    try {
      MemorySegment ram =
          mapExact(ramPath, "RAM file", memoryBytes, "memory_bytes " + memoryBytes, arena);
      MemorySegment log =
          mapExact(
              dirtyLogPath,
              "dirty log",
              logBytes,
              pages + " pages of " + pageSize + " bytes, one bit each in whole 64-bit words",
              arena);
      ok = true;
      return new GuestRam(ramPath, dirtyLogPath, pages, pageSize, options, arena, ram, log);
    } finally {
      if (!ok) {
        arena.close();
      }
    }
  }

  private static MemorySegment mapExact(
      Path path, String what, long expected, String why, Arena arena) throws IOException {
    try (FileChannel ch =
        FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long size = ch.size();
      if (size != expected) {
        throw new IOException(
            what + " " + path + " is " + size + " bytes, but the attach announced " + expected
                + " bytes (" + why + ")");
      }
      return ch.map(FileChannel.MapMode.READ_WRITE, 0, expected, arena);
    } catch (NoSuchFileException e) {
      throw new IOException(what + " " + path + " does not exist", e);
    }
  }

  /** Bytes of a dirty log for {@code pages} pages: one bit each, in whole 64-bit words. */
  public static long dirtyLogBytes(long pages) {
    return ((pages + 63) >>> 6) * 8;
  }

  /**
   * The stamp checksum: a 64-bit mix of pfn, owner and generation (the magic is in the seed),
   * never 0.
   */
  public static long checksum(long pfn, int owner, long generation) {
    long h = mix(CHECKSUM_SEED ^ pfn);
    h = mix(h ^ (MAGIC_HIGH | (owner & 0xFFFF_FFFFL)));
    h = mix(h ^ generation);
    return h == 0 ? 1 : h;
  }

  // The splitmix64 / murmur3 64-bit finalizer.
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
    return z ^ (z >>> 31);
  }

  /**
   * Writes page {@code pfn}: its stamp (and the fill pattern if enabled), then its dirty bit.
   *
   * @param owner the owner word to stamp; the caller passes the same one to {@link #verifyPage}
   * @param generation the write generation; callers bump it per write to tell stale copies apart
   * @throws IllegalArgumentException if {@code pfn} is outside the RAM
   */
  public void writePage(long pfn, int owner, long generation) {
    checkPfn(pfn);
    long base = pfn << pageShift;
    long sum = checksum(pfn, owner, generation);
    if (options.fillPattern()) {
      long x = sum;
      for (long off = base + STAMP_BYTES, end = base + pageSize; off < end; off += 8) {
        x += GOLDEN;
        ram.set(LONG_LE, off, x ^ (x >>> 31));
      }
    }
    ram.set(LONG_LE, base, pfn);
    ram.set(LONG_LE, base + 8, MAGIC_HIGH | (owner & 0xFFFF_FFFFL));
    ram.set(LONG_LE, base + 16, generation);
    ram.set(LONG_LE, base + 24, sum);
    markDirty(pfn);
    writes.increment();
  }

  /**
   * Checks page {@code pfn} against the stamp the caller last wrote to it. Call it only for pages
   * the caller holds (allocated and written by it, not freed since): reading a free page may
   * refault a discarded one.
   *
   * @param owner the owner word the caller passed to {@link #writePage}
   * @param generation the generation the caller passed to {@link #writePage}
   * @return {@link PageCheck#OK}, {@link PageCheck#LOST_WRITE} (stamp all zeros) or {@link
   *     PageCheck#CORRUPT}; the last two are counted and the first {@link Options#maxSamples()}
   *     of each are kept
   * @throws IllegalArgumentException if {@code pfn} is outside the RAM
   */
  public PageCheck verifyPage(long pfn, int owner, long generation) {
    checkPfn(pfn);
    long base = pfn << pageShift;
    long w0 = ram.get(LONG_LE, base);
    long w1 = ram.get(LONG_LE, base + 8);
    long w2 = ram.get(LONG_LE, base + 16);
    long w3 = ram.get(LONG_LE, base + 24);
    verifies.increment();
    if ((w0 | w1 | w2 | w3) == 0) {
      long n = lostWrites.getAndIncrement();
      if (n < options.maxSamples()) {
        sample(
            lostSamples,
            new BadPage(pfn, owner, generation, PageCheck.LOST_WRITE, 0, 0, 0, false));
      }
      return PageCheck.LOST_WRITE;
    }
    long sum = checksum(pfn, owner, generation);
    boolean ok =
        w0 == pfn && w1 == (MAGIC_HIGH | (owner & 0xFFFF_FFFFL)) && w2 == generation && w3 == sum;
    if (ok && options.fillPattern()) {
      long x = sum;
      for (long off = base + STAMP_BYTES, end = base + pageSize; off < end; off += 8) {
        x += GOLDEN;
        if (ram.get(LONG_LE, off) != (x ^ (x >>> 31))) {
          ok = false;
          break;
        }
      }
    }
    if (ok) {
      return PageCheck.OK;
    }
    long n = corruptPages.getAndIncrement();
    if (n < options.maxSamples()) {
      boolean valid =
          (w1 & 0xFFFF_FFFF_0000_0000L) == MAGIC_HIGH && w3 == checksum(w0, (int) w1, w2);
      sample(
          corruptSamples,
          new BadPage(pfn, owner, generation, PageCheck.CORRUPT, w0, (int) w1, w2, valid));
    }
    return PageCheck.CORRUPT;
  }

  private static void sample(List<BadPage> samples, BadPage bad) {
    synchronized (samples) {
      samples.add(bad);
    }
  }

  /**
   * Fills page {@code pfn} with {@code poisonVal} in every 32-bit word (little-endian, as an
   * x86-64 guest's memset32 does) and sets its dirty bit.
   *
   * @throws IllegalArgumentException if {@code pfn} is outside the RAM
   */
  public void poisonPage(long pfn, int poisonVal) {
    poisonPages(pfn, 1, poisonVal);
  }

  /**
   * As {@link #poisonPage} for {@code [pfn, pfn + nrPages)}, e.g. a freed block of order {@code
   * o} with {@code nrPages = 1 << o}.
   *
   * @throws IllegalArgumentException if the range is not inside the RAM
   */
  public void poisonPages(long pfn, long nrPages, int poisonVal) {
    checkRange(pfn, nrPages);
    long word = (poisonVal & 0xFFFF_FFFFL) * 0x1_0000_0001L; // the value in both halves
    long start = pfn << pageShift;
    long end = (pfn + nrPages) << pageShift;
    if (word == 0) {
      ram.asSlice(start, end - start).fill((byte) 0);
    } else {
      for (long off = start; off < end; off += 8) {
        ram.set(LONG_LE, off, word);
      }
    }
    markDirty(pfn, nrPages);
    poisoned.add(nrPages);
  }

  /**
   * Zeroes pages {@code [pfn, pfn + nrPages)} and sets their dirty bits: {@code
   * kernel_init_pages()} for a block just allocated with init_on_alloc=1. Bulk: one fill of the
   * mapped range, the dirty bits a word at a time.
   *
   * @throws IllegalArgumentException if the range is not inside the RAM
   */
  public void zeroPages(long pfn, long nrPages) {
    checkRange(pfn, nrPages);
    long start = pfn << pageShift;
    ram.asSlice(start, nrPages << pageShift).fill((byte) 0);
    markDirty(pfn, nrPages);
    zeroed.add(nrPages);
  }

  private void checkRange(long pfn, long nrPages) {
    if (pfn < 0 || nrPages < 0 || pfn > pages - nrPages) {
      throw new IllegalArgumentException(
          "range [" + pfn + ", +" + nrPages + ") outside [0, " + pages + ") of " + ramPath);
    }
  }

  private void markDirty(long pfn) {
    long unused = (long) DIRTY_WORD.getAndBitwiseOr(dirtyLog, (pfn >>> 6) << 3, 1L << pfn);
  }

  /** Sets the dirty bits of {@code [pfn, pfn + nrPages)}, one atomic OR per 64-bit word. */
  private void markDirty(long pfn, long nrPages) {
    long p = pfn;
    long end = pfn + nrPages;
    while (p < end) {
      int bit = (int) (p & 63);
      long n = Math.min(64 - bit, end - p);
      long mask = n == 64 ? -1L : ((1L << n) - 1) << bit;
      long unused = (long) DIRTY_WORD.getAndBitwiseOr(dirtyLog, (p >>> 6) << 3, mask);
      p += n;
    }
  }

  private void checkPfn(long pfn) {
    if (pfn < 0 || pfn >= pages) {
      throw new IllegalArgumentException(
          "pfn " + pfn + " outside [0, " + pages + ") of " + ramPath);
    }
  }

  /** The counters, for the run summary. */
  public RamCounters counters() {
    return new RamCounters(writes.sum(), verifies.sum(), lostWrites.get(), corruptPages.get(),
        poisoned.sum(), zeroed.sum());
  }

  /** Pages stamped by {@link #writePage}. */
  public long writes() {
    return writes.sum();
  }

  /** Pages checked by {@link #verifyPage}. */
  public long verifies() {
    return verifies.sum();
  }

  /** Verified pages whose stamp read as zeros: data the host discarded while the guest held it. */
  public long lostWrites() {
    return lostWrites.get();
  }

  /** Verified pages with wrong content other than zeros. */
  public long corruptPages() {
    return corruptPages.get();
  }

  /** Pages filled with a poison value. */
  public long poisonedPages() {
    return poisoned.sum();
  }

  /** Pages zeroed by {@link #zeroPages} (init_on_alloc). */
  public long zeroedPages() {
    return zeroed.sum();
  }

  /** The first {@link Options#maxSamples()} lost writes, in the order they were found. */
  public List<BadPage> lostWriteSamples() {
    synchronized (lostSamples) {
      return List.copyOf(lostSamples);
    }
  }

  /** The first {@link Options#maxSamples()} corrupt pages, in the order they were found. */
  public List<BadPage> corruptPageSamples() {
    synchronized (corruptSamples) {
      return List.copyOf(corruptSamples);
    }
  }

  /** Number of pages. */
  public long pages() {
    return pages;
  }

  /** Page size in bytes. */
  public int pageSize() {
    return pageSize;
  }

  /** RAM size in bytes. */
  public long memoryBytes() {
    return pages * pageSize;
  }

  /** The RAM file mapped. */
  public Path ramPath() {
    return ramPath;
  }

  /** The dirty-log file mapped. */
  public Path dirtyLogPath() {
    return dirtyLogPath;
  }

  /** The options of this mapping. */
  public Options options() {
    return options;
  }

  /** Whether {@link #close()} ran. */
  public boolean isClosed() {
    return closed.get();
  }

  /**
   * Unmaps both files (closes the arena); later calls throw {@link IllegalStateException}. The
   * files stay: they are the host's. Idempotent.
   */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      arena.close();
    }
  }
}
