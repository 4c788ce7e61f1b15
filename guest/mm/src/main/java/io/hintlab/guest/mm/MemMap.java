package io.hintlab.guest.mm;

import java.util.Arrays;

/**
 * The model's {@code struct page} array and pageblock bitmap: primitive arrays indexed by pfn, no
 * object per page. Fourteen bytes per page: a state byte, an order byte, two list links and the
 * owner of an allocated block (the model's compact reverse map).
 *
 * <p>State byte layout:
 *
 * <pre>
 *   bits 0-2  kind: HOLE, RESERVED, FREE_TAIL, BUDDY, PCP, ALLOC, TAIL, TAKEN
 *   bit  3    PG_reported (only on BUDDY heads)
 *   bits 4-7  BUDDY: the free list's migratetype; PCP: the pcp list index (pindex);
 *             ALLOC, TAIL and TAKEN: the migratetype the block was allocated or taken with
 * </pre>
 *
 * A block of order o is a head pfn with kind BUDDY, PCP, ALLOC or TAKEN and its order in
 * {@link #order}, followed by 2^o - 1 pages of kind FREE_TAIL (for a BUDDY head) or TAIL (for the
 * others). {@link #next}/{@link #prev} link BUDDY heads into zone free lists and PCP heads into
 * per-cpu lists; {@link #NIL} ends a list.
 *
 * <p>Pageblock byte layout: bits 0-2 the migratetype (never ISOLATE), bit 3 PB_migrate_isolate,
 * bit 4 PB_compact_skip, as in v6.16+ include/linux/pageblock-flags.h where isolation is a bit of
 * its own and the underlying type survives it.
 *
 * <p><b>Note:</b> not thread-safe on its own; every write happens under the owning zone's lock or
 * the owning pcp's lock, as in the kernel.
 */
public final class MemMap {
  /** Not RAM (an offline hole). */
  public static final int K_HOLE = 0;
  /** Present but not managed by the buddy allocator (PageReserved, memblock reservations). */
  public static final int K_RESERVED = 1;
  /** A non-head page of a free buddy block. */
  public static final int K_FREE_TAIL = 2;
  /** Head of a free block on a zone free list (PageBuddy). */
  public static final int K_BUDDY = 3;
  /** Head of a block on a per-cpu list. */
  public static final int K_PCP = 4;
  /** Head of an allocated block. */
  public static final int K_ALLOC = 5;
  /** A non-head page of an allocated, pcp or taken block. */
  public static final int K_TAIL = 6;
  /** Head of a free block taken off the free lists by __isolate_free_page (e.g. in a report). */
  public static final int K_TAKEN = 7;

  /**
   * Aux value of allocated pages with movable_ops (balloon pages, PageOffline + movable ops in
   * v6.17): movable although not allocated from the MOVABLE type's lists.
   */
  public static final int AUX_MOVABLE_OPS = 6;

  static final int KIND_MASK = 0x7;
  static final int REPORTED = 0x8;
  static final int AUX_SHIFT = 4;

  static final int PB_MT_MASK = 0x7;
  static final int PB_ISOLATE = 0x8;
  static final int PB_COMPACT_SKIP = 0x10;

  /** End-of-list marker in {@link #next} and {@link #prev}. */
  public static final int NIL = -1;

  final Geometry geo;
  final int nrPages;
  final byte[] state;
  final byte[] order;
  final int[] next;
  final int[] prev;
  /** Owner of an allocated head ({@link PageOwners#owner}); 0 = none. */
  final int[] owner;
  final byte[] pageblock;

  MemMap(Geometry geo, int nrPages) {
    this.geo = geo;
    this.nrPages = nrPages;
    this.state = new byte[nrPages];
    this.order = new byte[nrPages];
    this.next = new int[nrPages];
    this.prev = new int[nrPages];
    this.owner = new int[nrPages];
    this.pageblock = new byte[(int) (((long) nrPages + geo.pageblockNrPages() - 1) >> geo.pageblockOrder())];
  }

  /** Bytes of model metadata per page: the four per-pfn arrays plus the pageblock bitmap. */
  public double bytesPerPage() {
    long bytes = (long) state.length + order.length + 4L * next.length + 4L * prev.length
        + 4L * owner.length + pageblock.length;
    return (double) bytes / nrPages;
  }

  /** Number of pfns covered. */
  public int nrPages() {
    return nrPages;
  }

  /** The kind of pfn (one of the K_* constants). */
  public int kind(int pfn) {
    return state[pfn] & KIND_MASK;
  }

  /** The auxiliary field of pfn (free-list migratetype, pindex or allocation migratetype). */
  public int aux(int pfn) {
    return (state[pfn] & 0xff) >>> AUX_SHIFT;
  }

  /** The order stored on a head pfn. */
  public int order(int pfn) {
    return order[pfn];
  }

  /** The owner of an allocated head (0 when it has none). */
  public int owner(int pfn) {
    return owner[pfn];
  }

  /** PageReported(). */
  public boolean isReported(int pfn) {
    return (state[pfn] & REPORTED) != 0;
  }

  /** PageBuddy(): the pfn heads a free block on a zone free list. */
  public boolean isBuddy(int pfn) {
    return (state[pfn] & KIND_MASK) == K_BUDDY;
  }

  void setHead(int pfn, int kind, int aux, int ord) {
    state[pfn] = (byte) (kind | (aux << AUX_SHIFT));
    order[pfn] = (byte) ord;
  }

  void setKind(int pfn, int kind, int aux) {
    state[pfn] = (byte) (kind | (aux << AUX_SHIFT));
  }

  /** Marks the 2^ord - 1 pages after head as {@code kind} with {@code aux}. */
  void fillTails(int head, int ord, int kind, int aux) {
    if (ord > 0) {
      Arrays.fill(state, head + 1, head + (1 << ord), (byte) (kind | (aux << AUX_SHIFT)));
    }
  }

  void setReported(int pfn, boolean reported) {
    if (reported) {
      state[pfn] |= REPORTED;
    } else {
      state[pfn] &= ~REPORTED;
    }
  }

  // ---- pageblock flags (include/linux/pageblock-flags.h, mm/page_alloc.c) ----

  int pageblockIndex(int pfn) {
    return pfn >>> geo.pageblockOrder();
  }

  /** get_pfnblock_migratetype(): ISOLATE when the isolate bit is set, else the stored type. */
  public int getPfnblockMigratetype(int pfn) {
    int b = pageblock[pfn >>> geo.pageblockOrder()];
    return (b & PB_ISOLATE) != 0 ? MigrateType.ISOLATE : b & PB_MT_MASK;
  }

  /** The 3-bit type of the pageblock, ignoring the isolate bit. */
  public int getPageblockTypeBits(int pfn) {
    return pageblock[pfn >>> geo.pageblockOrder()] & PB_MT_MASK;
  }

  /** get_pageblock_isolate(). */
  public boolean isPageblockIsolated(int pfn) {
    return (pageblock[pfn >>> geo.pageblockOrder()] & PB_ISOLATE) != 0;
  }

  /** Writes the 3-bit type; callers go through Zone, which enforces the kernel's rules. */
  void setPageblockTypeBits(int pfn, int mt) {
    int i = pfn >>> geo.pageblockOrder();
    pageblock[i] = (byte) ((pageblock[i] & ~PB_MT_MASK) | mt);
  }

  void setPageblockIsolate(int pfn, boolean isolate) {
    int i = pfn >>> geo.pageblockOrder();
    pageblock[i] = (byte) (isolate ? pageblock[i] | PB_ISOLATE : pageblock[i] & ~PB_ISOLATE);
  }

  /** PB_compact_skip: compaction's skip hint for the pageblock of pfn. */
  public boolean isPageblockSkip(int pfn) {
    return (pageblock[pfn >>> geo.pageblockOrder()] & PB_COMPACT_SKIP) != 0;
  }

  void setPageblockSkip(int pfn, boolean skip) {
    int i = pfn >>> geo.pageblockOrder();
    pageblock[i] = (byte) (skip ? pageblock[i] | PB_COMPACT_SKIP : pageblock[i] & ~PB_COMPACT_SKIP);
  }
}
