package io.hintlab.host.memory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * One guest's RAM as the host holds it: a sparse file (tmpfs) mapped shared, the guest's dirty log,
 * and the discard map (pages whose backing was freed and that nobody wrote since).
 *
 * <p>The host never reads guest RAM: a read fault on a punched tmpfs hole allocates the page again
 * (toolchain.md §3.2). It only punches holes and, with the poison option, writes poison.
 *
 * <p>Invariants (tested): discarding a page sets it in the discard map; a dirty-log sync that finds
 * a discarded page dirty removes it from the map and counts a refault; the allocated bytes of the
 * file fall by the size of every range punched out of populated memory.
 *
 * <p><b>Note:</b> thread-safe. The discard map and the dirty sinks are guarded by {@code this};
 * the dirty log itself is only touched with atomic word operations.
 */
public final class GuestMemory implements AutoCloseable {
  private final Path ramPath;
  private final Path dirtyLogPath;
  private final long pages;
  private final int pageSize;
  private final long backingPageSize;
  private final int fd;
  private final Arena arena;
  private final MemorySegment ram;
  private final DirtyLog dirtyLog;
  private final PageBitmap discarded;
  private final Discarder discarder;
  private final List<DirtySink> sinks = new CopyOnWriteArrayList<>();
  private final AtomicLong refaults = new AtomicLong();
  private final AtomicLong misalignedRanges = new AtomicLong();
  private final AtomicLong discardFailures = new AtomicLong();
  private final AtomicLong peakAllocated = new AtomicLong();
  private final boolean memfd;
  private boolean closed;

  private GuestMemory(
      Path ramPath,
      Path dirtyLogPath,
      long pages,
      int pageSize,
      UnaryOperator<Discarder> discarderWrapper,
      int memfdFd)
      throws IOException {
    this.memfd = memfdFd >= 0;
    this.ramPath = ramPath;
    this.dirtyLogPath = dirtyLogPath;
    this.pages = pages;
    this.pageSize = pageSize;
    this.arena = Arena.ofShared();
    boolean ok = false;
    int opened = memfdFd;
    try {
      long bytes = pages * pageSize;
      try (FileChannel ch =
          FileChannel.open(ramPath, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        this.ram = ch.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
      }
      try (FileChannel ch =
          FileChannel.open(dirtyLogPath, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        MemorySegment log =
            ch.map(FileChannel.MapMode.READ_WRITE, 0, DirtyLog.bytesFor(pages), arena);
        this.dirtyLog = new DirtyLog(log, pages);
      }
      if (opened < 0) {
        opened = NativeLibc.open(ramPath);
      }
      this.fd = opened;
      this.backingPageSize = Math.max(pageSize, NativeLibc.fstat(fd).blockSize());
      this.discarded = new PageBitmap(pages);
      this.discarder = discarderWrapper.apply(this::punchOrRemove);
      ok = true;
    } finally {
      if (!ok) {
        if (opened >= 0 && memfdFd < 0) { // a memfd stays the caller's to close
          NativeLibc.close(opened);
        }
        arena.close();
      }
    }
  }

  /**
   * Creates the RAM file ({@code <name>.ram}, sparse, {@code memoryBytes} long) and the dirty log
   * ({@code <name>.dirty}) in {@code dir}, both mode 0600, and maps them.
   *
   * @param dir a private (0700) directory, ideally on tmpfs
   * @param name file name stem, e.g. the guest id
   * @param memoryBytes RAM size, a positive multiple of {@code pageSize}
   * @param pageSize guest page size in bytes, a power of two
   * @throws IOException if the files cannot be created or mapped
   */
  public static GuestMemory create(Path dir, String name, long memoryBytes, int pageSize)
      throws IOException {
    return create(dir, name, memoryBytes, pageSize, UnaryOperator.identity());
  }

  /**
   * As {@link #create(Path, String, long, int)}, with the discard primitive wrapped (tests).
   *
   * @param discarderWrapper receives the real discarder and returns the one to use
   */
  public static GuestMemory create(
      Path dir,
      String name,
      long memoryBytes,
      int pageSize,
      UnaryOperator<Discarder> discarderWrapper)
      throws IOException {
    if (pageSize <= 0 || Integer.bitCount(pageSize) != 1) {
      throw new IllegalArgumentException("page size must be a power of two, was " + pageSize);
    }
    if (memoryBytes <= 0 || memoryBytes % pageSize != 0) {
      throw new IllegalArgumentException(
          "memory size must be a positive multiple of " + pageSize + ", was " + memoryBytes);
    }
    long pages = memoryBytes / pageSize;
    Path ram = dir.resolve(name + ".ram");
    Path log = dir.resolve(name + ".dirty");
    var mode = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
    Files.createFile(ram, mode);
    try {
      Files.createFile(log, mode);
      // Sparse: extending the length allocates no blocks.
      try (var raf = new java.io.RandomAccessFile(ram.toFile(), "rw")) {
        raf.setLength(memoryBytes);
      }
      try (var raf = new java.io.RandomAccessFile(log.toFile(), "rw")) {
        raf.setLength(DirtyLog.bytesFor(pages));
      }
      return new GuestMemory(ram, log, pages, pageSize, discarderWrapper, -1);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(ram);
      Files.deleteIfExists(log);
      throw e;
    }
  }

  /**
   * As {@link #create(Path, String, long, int)} but the RAM is a memfd: the guest maps it through
   * {@code /proc/<host pid>/fd/<fd>} ({@link #ramPath()}), and it vanishes with the host process.
   * The dirty log is still a 0600 file in {@code dir}.
   */
  public static GuestMemory createMemfd(Path dir, String name, long memoryBytes, int pageSize)
      throws IOException {
    if (pageSize <= 0 || Integer.bitCount(pageSize) != 1) {
      throw new IllegalArgumentException("page size must be a power of two, was " + pageSize);
    }
    if (memoryBytes <= 0 || memoryBytes % pageSize != 0) {
      throw new IllegalArgumentException(
          "memory size must be a positive multiple of " + pageSize + ", was " + memoryBytes);
    }
    long pages = memoryBytes / pageSize;
    Path log = dir.resolve(name + ".dirty");
    Files.createFile(log,
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    int fd = -1;
    try {
      try (var raf = new java.io.RandomAccessFile(log.toFile(), "rw")) {
        raf.setLength(DirtyLog.bytesFor(pages));
      }
      fd = NativeLibc.memfdCreate("hintlab-" + name, memoryBytes);
      Path ram = Path.of("/proc", Long.toString(ProcessHandle.current().pid()), "fd",
          Integer.toString(fd));
      return new GuestMemory(ram, log, pages, pageSize, UnaryOperator.identity(), fd);
    } catch (IOException | RuntimeException e) {
      if (fd >= 0) {
        NativeLibc.close(fd);
      }
      Files.deleteIfExists(log);
      throw e;
    }
  }

  /** Whether the RAM is a memfd rather than a file in the state directory. */
  public boolean isMemfd() {
    return memfd;
  }

  // mirrors ram_block_discard_range(): PUNCH_HOLE on the file, MADV_REMOVE if that is refused
  private void punchOrRemove(long offset, long len) throws IOException {
    try {
      NativeLibc.punchHole(fd, offset, len);
    } catch (IOException punchFailed) {
      try {
        NativeLibc.madviseRemove(ram.asSlice(offset, len));
      } catch (IOException removeFailed) {
        removeFailed.addSuppressed(punchFailed);
        throw removeFailed;
      }
    }
  }

  /** Path of the RAM file the guest maps. */
  public Path ramPath() {
    return ramPath;
  }

  /** Path of the dirty-log file the guest maps. */
  public Path dirtyLogPath() {
    return dirtyLogPath;
  }

  /** Number of guest pages. */
  public long pages() {
    return pages;
  }

  /** Guest page size in bytes. */
  public int pageSize() {
    return pageSize;
  }

  /** The backing file's page size ({@code st_blksize}); discards must be aligned to it. */
  public long backingPageSize() {
    return backingPageSize;
  }

  /** The guest's dirty log (raw access; prefer {@link #syncDirty}). */
  public DirtyLog dirtyLog() {
    return dirtyLog;
  }

  /**
   * Discards {@code [pfn, pfn + nrPages)}: punches the hole and marks the pages in the discard map.
   * A range whose byte offset or length is not a multiple of {@link #backingPageSize()} is ignored
   * and counted, as QEMU's virtio_balloon_handle_report() does.
   *
   * @throws IOException when the backing refuses to free the range (counted as a discard failure)
   */
  public synchronized DiscardOutcome discard(long pfn, long nrPages) throws IOException {
    checkRange(pfn, nrPages);
    long offset = pfn * pageSize;
    long len = nrPages * pageSize;
    if (((offset | len) & (backingPageSize - 1)) != 0) {
      misalignedRanges.incrementAndGet();
      return DiscardOutcome.IGNORED;
    }
    ensureOpen();
    noteAllocated();
    try {
      discarder.discard(offset, len);
    } catch (IOException e) {
      discardFailures.incrementAndGet();
      throw e;
    }
    long fresh = discarded.setRange(pfn, nrPages);
    return new DiscardOutcome(fresh, nrPages - fresh, false);
  }

  /**
   * Writes {@code poisonVal} into every 32-bit word of the range (the "write poison instead of
   * discarding" option for PAGE_POISON guests). This allocates the pages, as a guest write would.
   */
  public synchronized void writePoison(long pfn, long nrPages, int poisonVal) {
    checkRange(pfn, nrPages);
    ensureOpen();
    MemorySegment slice = ram.asSlice(pfn * pageSize, nrPages * pageSize);
    if (poisonVal == 0) {
      slice.fill((byte) 0);
    } else {
      for (long off = 0, end = slice.byteSize(); off < end; off += 4) {
        slice.set(ValueLayout.JAVA_INT_UNALIGNED, off, poisonVal);
      }
    }
    discarded.clearRange(pfn, nrPages);
  }

  /**
   * Fetch-and-clears the dirty bits of {@code [pfn, pfn + nrPages)}. Every dirty page is removed
   * from the discard map (a refault if it was there), passed to the registered {@link DirtySink}s
   * and to {@code found}.
   *
   * @param found receives each dirty pfn of the range, or null
   * @return number of dirty pages found
   */
  public synchronized long syncDirty(long pfn, long nrPages, DirtySink found) {
    checkRange(pfn, nrPages);
    ensureOpen();
    long count = 0;
    long end = pfn + nrPages;
    for (long p = pfn; p < end; ) {
      int w = (int) (p >>> 6);
      long wordEnd = Math.min(end, ((long) w + 1) << 6);
      int lo = (int) (p & 63);
      int n = (int) (wordEnd - p);
      long mask = n == 64 ? -1L : ((1L << n) - 1) << lo;
      long bits = dirtyLog.fetchAndClearBits(w, mask);
      count += deliver(w, bits, found);
      p = wordEnd;
    }
    return count;
  }

  /** Fetch-and-clears the whole dirty log (getAndSet 0 per word); as {@link #syncDirty}. */
  public synchronized long syncAllDirty(DirtySink found) {
    ensureOpen();
    long count = 0;
    for (int w = 0, n = dirtyLog.words(); w < n; w++) {
      if (dirtyLog.peekWord(w) != 0) {
        count += deliver(w, dirtyLog.fetchAndClearWord(w), found);
      }
    }
    return count;
  }

  // Locking: called with this held (syncDirty / syncAllDirty).
  private long deliver(int w, long bits, DirtySink found) {
    long count = 0;
    long base = (long) w << 6;
    while (bits != 0) {
      long pfn = base + Long.numberOfTrailingZeros(bits);
      bits &= bits - 1;
      count++;
      if (discarded.clear(pfn)) {
        refaults.incrementAndGet(); // a discarded page became dirty again
      }
      for (DirtySink s : sinks) {
        s.markDirty(pfn);
      }
      if (found != null) {
        found.markDirty(pfn);
      }
    }
    return count;
  }

  /** Registers a sink that sees every page found dirty by later syncs. */
  public void addDirtySink(DirtySink sink) {
    sinks.add(sink);
  }

  /** Unregisters a sink. */
  public void removeDirtySink(DirtySink sink) {
    sinks.remove(sink);
  }

  /** Whether {@code pfn} is discarded and untouched since (as of the last sync). */
  public synchronized boolean isDiscarded(long pfn) {
    checkRange(pfn, 1);
    return discarded.test(pfn);
  }

  /** Number of discarded pages in {@code [pfn, pfn + nrPages)}. */
  public synchronized long countDiscarded(long pfn, long nrPages) {
    checkRange(pfn, nrPages);
    return discarded.countRange(pfn, nrPages);
  }

  /** Number of discarded pages. */
  public synchronized long discardedPages() {
    return discarded.cardinality();
  }

  /** Runs {@code reader} on the discard map with the lock held; it must not keep the bitmap. */
  public synchronized void readDiscardMap(Consumer<PageBitmap> reader) {
    reader.accept(discarded);
  }

  /** Bytes the RAM file really occupies: {@code st_blocks * 512} from {@code fstat}. */
  public synchronized long allocatedBytes() throws IOException {
    ensureOpen();
    return noteAllocated();
  }

  private long noteAllocated() throws IOException {
    long now = NativeLibc.fstat(fd).allocatedBytes();
    peakAllocated.accumulateAndGet(now, Math::max);
    return now;
  }

  /** Highest {@link #allocatedBytes()} seen (sampled at every discard and every query). */
  public long peakAllocatedBytes() {
    return peakAllocated.get();
  }

  /** Discarded pages found dirty again. */
  public long refaults() {
    return refaults.get();
  }

  /** Ranges ignored because they were not aligned to the backing page size. */
  public long misalignedRanges() {
    return misalignedRanges.get();
  }

  /** Discards the backing refused. */
  public long discardFailures() {
    return discardFailures.get();
  }

  private void checkRange(long pfn, long nrPages) {
    if (pfn < 0 || nrPages < 0 || pfn > pages - nrPages) {
      throw new IllegalArgumentException(
          "range [" + pfn + ", +" + nrPages + ") outside [0, " + pages + ")");
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("guest memory " + ramPath + " is closed");
    }
  }

  /** Unmaps, closes and deletes both files. Idempotent. */
  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    sinks.clear();
    NativeLibc.close(fd);
    arena.close();
    if (!memfd) {
      Files.deleteIfExists(ramPath); // a memfd is gone with its last fd and mapping
    }
    Files.deleteIfExists(dirtyLogPath);
  }

  /** Whether {@link #close()} ran. */
  public synchronized boolean isClosed() {
    return closed;
  }
}
