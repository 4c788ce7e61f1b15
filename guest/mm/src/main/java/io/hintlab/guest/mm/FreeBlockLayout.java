package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MigrateType.CMA;
import static io.hintlab.guest.mm.MigrateType.HIGHATOMIC;
import static io.hintlab.guest.mm.MigrateType.ISOLATE;
import static io.hintlab.guest.mm.MigrateType.MOVABLE;
import static io.hintlab.guest.mm.MigrateType.RECLAIMABLE;
import static io.hintlab.guest.mm.MigrateType.TYPES;
import static io.hintlab.guest.mm.MigrateType.UNMOVABLE;

import java.util.Arrays;

/**
 * Where the free blocks of one zone go, given only how many there are per migratetype and order
 * and how many pageblocks each migratetype has: the placement behind {@link PagetypeinfoImport}.
 * Pure computation, no allocator state; positions are offsets from the zone start, which must be
 * aligned to MAX_ORDER_NR_PAGES.
 *
 * <p>The result must be a state __free_one_page() can leave behind: no two free blocks of the same
 * order below MAX_PAGE_ORDER are buddies ({@code pfn ^ (1 << order)}) that it would have merged.
 * Below pageblock_order every such pair merges; at pageblock_order and above a pair merges unless
 * the two types differ and one of them is not mergeable (HighAtomic, CMA, Isolate). Checking pairs
 * suffices: an aligned region tiled by free blocks of smaller orders always contains a pair of
 * buddies among its smallest blocks.
 *
 * <p>The layout works top-down, as a buddy tree:
 *
 * <ol>
 *   <li>Order MAX_PAGE_ORDER blocks (which never merge) take whole MAX_ORDER-aligned regions,
 *       highest first; what is left are open regions.
 *   <li>For each order o from MAX_PAGE_ORDER-1 down to pageblock_order, every open region of order
 *       o+1 is a pair of buddy halves. Free blocks of order o go into halves so that no pair gets
 *       two blocks of the same merge class ({Unmovable, Movable, Reclaimable}, {HighAtomic},
 *       {CMA}, {Isolate}); halves left over are the open regions of order o. A region cut by the
 *       zone end gives at most one usable half, with no buddy inside the zone. Filling the halves
 *       in the order "upper half of every pair, then lower half of every pair", one merge class
 *       after the other, succeeds exactly when each class has at most one block per pair and all
 *       blocks fit; the number of open regions left does not depend on the choice, so the greedy
 *       order-by-order placement never fails where another would succeed.
 *   <li>The open pageblocks left take the remaining pageblocks of every type, in runs by type;
 *       blocks below pageblock_order of a type go into as few of that type's pageblocks as
 *       possible (next step) and the rest are wholly allocated.
 *   <li>Inside pageblocks, a free block's buddy must not be free: every node of the tree that is
 *       not a free block must keep an allocated page. Splitting a kept node of order o+1 gives
 *       either a free block (upper half, as expand() leaves it) plus a kept lower half, or two
 *       kept halves. With n[o] free blocks of order o, the number of kept nodes needed at order o
 *       is {@code need[o] = n[o-1] + ceil(max(0, need[o-1] - n[o-1]) / 2)}, need[0] = 0, so a
 *       type needs need[pageblock_order] pageblocks for its small blocks, which is also
 *       sufficient. This packs up to 2^(pageblock_order-1) order-0 blocks in a pageblock (every
 *       other page) and, at the other extreme, one block of each order at offsets 1, 2, 4, ...
 *       with page 0 allocated.
 * </ol>
 *
 * Cost: O(pageblocks * orders + free blocks), memory O(free blocks).
 */
final class FreeBlockLayout {
  /** Merge classes at pageblock order and above: types within a class merge with each other. */
  private static final int[][] MERGE_CLASSES = {
    {UNMOVABLE, MOVABLE, RECLAIMABLE}, {HIGHATOMIC}, {CMA}, {ISOLATE}
  };

  private final String zoneName;
  private final int pbOrder;
  private final int maxOrder;
  private final int nrPageblocks;
  private final long[] blocks;
  private final long[][] free;

  /** The migratetype of each pageblock (ISOLATE for an isolated one). */
  final byte[] pageblockType;
  /** Free block i: page offset from the zone start, order and free-list type. */
  final int[] offset;
  final byte[] order;
  final byte[] type;
  int size;

  private FreeBlockLayout(String zoneName, Geometry geo, int nrPageblocks, long[] blocks,
      long[][] free, int nrFreeBlocks) {
    this.zoneName = zoneName;
    this.pbOrder = geo.pageblockOrder();
    this.maxOrder = geo.maxPageOrder();
    this.nrPageblocks = nrPageblocks;
    this.blocks = blocks;
    this.free = free;
    this.pageblockType = new byte[nrPageblocks];
    this.offset = new int[nrFreeBlocks];
    this.order = new byte[nrFreeBlocks];
    this.type = new byte[nrFreeBlocks];
  }

  /**
   * Lays out one zone.
   *
   * @param zoneName the zone's name, for messages
   * @param geo the geometry
   * @param blocks blocks[mt]: pageblocks of each migratetype; their sum is the zone's size
   * @param free free[mt][order]: free blocks on each list
   * @return the layout
   * @throws IllegalArgumentException naming zone, type and order when the blocks cannot be placed
   *     without two of them being buddies that the kernel would have merged
   */
  static FreeBlockLayout compute(String zoneName, Geometry geo, long[] blocks, long[][] free) {
    long nrPageblocks = 0;
    for (long b : blocks) {
      nrPageblocks += b;
    }
    long pages = nrPageblocks << geo.pageblockOrder();
    if (nrPageblocks <= 0 || pages > Integer.MAX_VALUE) {
      long most = Integer.MAX_VALUE >> geo.pageblockOrder();
      throw new IllegalArgumentException("zone " + zoneName + ": " + nrPageblocks
          + " pageblocks cannot be modelled (need 1 to " + most + ")");
    }
    long nrFree = 0;
    for (int mt = 0; mt < TYPES; mt++) {
      for (int o = 0; o < geo.nrPageOrders(); o++) {
        if (free[mt][o] > pages >> o) {
          throw new IllegalArgumentException("zone " + zoneName + ", type " + MigrateType.name(mt)
              + ", order " + o + ": " + free[mt][o] + " free blocks cannot fit in the zone's "
              + pages + " pages");
        }
        nrFree += free[mt][o];
      }
    }
    FreeBlockLayout l = new FreeBlockLayout(zoneName, geo, (int) nrPageblocks, blocks, free,
        (int) Math.min(nrFree, pages));
    l.run();
    return l;
  }

  private void run() {
    long[] smallPageblocks = new long[TYPES];
    long[][] need = new long[TYPES][];
    for (int mt = 0; mt < TYPES; mt++) {
      need[mt] = keptNodesNeeded(free[mt]);
      smallPageblocks[mt] = need[mt][pbOrder];
      checkTypeFits(mt, smallPageblocks[mt]);
    }
    int[] open = placeLargeBlocks();
    int[][] hosts = assignPageblocks(open, smallPageblocks);
    for (int mt = 0; mt < TYPES; mt++) {
      placeSmallBlocks(mt, hosts[mt], need[mt]);
    }
  }

  // ---------------------------------------------------------------- sizing

  /**
   * need[k]: nodes of order k that must keep an allocated page so that the type's blocks below
   * pageblock order fit under them (see the class comment); need[pageblock_order] is pageblocks.
   */
  private long[] keptNodesNeeded(long[] n) {
    long[] need = new long[pbOrder + 1];
    for (int k = 1; k <= pbOrder; k++) {
      long rest = Math.max(0, need[k - 1] - n[k - 1]);
      need[k] = n[k - 1] + (rest + 1) / 2;
    }
    return need;
  }

  /** Pageblocks the type's free blocks of pageblock order and above cover. */
  private long largePageblocks(int mt) {
    long pb = 0;
    for (int o = pbOrder; o <= maxOrder; o++) {
      pb += free[mt][o] << (o - pbOrder);
    }
    return pb;
  }

  private void checkTypeFits(int mt, long small) {
    long large = largePageblocks(mt);
    if (large + small > blocks[mt]) {
      throw new IllegalArgumentException("zone " + zoneName + ", type " + MigrateType.name(mt)
          + ": the free blocks need " + (large + small) + " pageblocks (" + large
          + " for blocks of order >= " + pbOrder + ", " + small + " for smaller ones, which "
          + "must leave an allocated page in each pageblock and never pair up as buddies) but "
          + "the type has " + blocks[mt]);
    }
  }

  // ---------------------------------------------------------------- pageblock order and above

  /**
   * Steps 1 and 2 of the class comment.
   *
   * @return the first pageblock index of each open pageblock left, ascending
   */
  private int[] placeLargeBlocks() {
    int perMax = 1 << (maxOrder - pbOrder);
    int full = nrPageblocks / perMax;
    int partial = nrPageblocks % perMax != 0 ? full * perMax : -1;
    int[] open = new int[full];
    for (int i = 0; i < full; i++) {
      open[i] = (full - 1 - i) * perMax; // highest first
    }
    open = placeMaxOrder(open);
    for (int o = maxOrder - 1; o >= pbOrder; o--) {
      int half = 1 << (o - pbOrder);
      int single = -1;
      int nextPartial = -1;
      if (partial >= 0) {
        if (partial + half <= nrPageblocks) {
          single = partial;
          nextPartial = partial + half < nrPageblocks ? partial + half : -1;
        } else {
          nextPartial = partial;
        }
      }
      open = placeOrder(o, open, single);
      partial = nextPartial;
    }
    Arrays.sort(open);
    return open;
  }

  /** Blocks of MAX_PAGE_ORDER never merge: one per whole aligned region, highest first. */
  private int[] placeMaxOrder(int[] regions) {
    int used = 0;
    for (int mt = 0; mt < TYPES; mt++) {
      long n = free[mt][maxOrder];
      if (n > regions.length - used) {
        throw new IllegalArgumentException("zone " + zoneName + ", order " + maxOrder + ": "
            + totalAt(maxOrder) + " free blocks of order " + maxOrder + " need as many aligned "
            + "order-" + maxOrder + " regions but the zone has " + regions.length);
      }
      for (long i = 0; i < n; i++) {
        addLarge(regions[used++], maxOrder, mt);
      }
    }
    return Arrays.copyOfRange(regions, used, regions.length);
  }

  /**
   * Places the blocks of order o (pageblock order or more, below MAX_PAGE_ORDER) into the halves
   * of the open regions of order o+1, at most one per merge class per pair.
   *
   * @param pairs open regions of order o+1 (pageblock indexes, highest first)
   * @param single a usable half with no buddy in the zone (cut by the zone end), or -1
   * @return the open regions of order o, highest first
   */
  private int[] placeOrder(int o, int[] pairs, int single) {
    int half = 1 << (o - pbOrder);
    int q = pairs.length;
    int s = single >= 0 ? 1 : 0;
    // Slots: upper halves of every pair, the single half, then lower halves of every pair. A run
    // of at most q + s slots of one class never puts two blocks in the same pair.
    int[] slots = new int[2 * q + s];
    for (int i = 0; i < q; i++) {
      slots[i] = pairs[i] + half;
      slots[q + s + i] = pairs[i];
    }
    if (s == 1) {
      slots[q] = single;
    }
    checkOrderFits(o, q, s);
    int next = 0;
    boolean[] used = new boolean[slots.length];
    for (int[] cls : MERGE_CLASSES) {
      for (int mt : cls) {
        for (long i = 0; i < free[mt][o]; i++) {
          used[next] = true;
          addLarge(slots[next++], o, mt);
        }
      }
    }
    int[] open = new int[slots.length - next];
    int k = 0;
    for (int i = 0; i < slots.length; i++) {
      if (!used[i]) {
        open[k++] = slots[i];
      }
    }
    // highest first, so that free memory gathers at the zone's end as after boot
    Arrays.sort(open);
    for (int i = 0, j = open.length - 1; i < j; i++, j--) {
      int t = open[i];
      open[i] = open[j];
      open[j] = t;
    }
    return open;
  }

  private void checkOrderFits(int o, int pairs, int single) {
    long total = totalAt(o);
    long slots = 2L * pairs + single;
    for (int[] cls : MERGE_CLASSES) {
      long n = 0;
      for (int mt : cls) {
        n += free[mt][o];
      }
      if (n > pairs + single) {
        throw new IllegalArgumentException("zone " + zoneName + ", order " + o + ": " + n
            + " free " + className(cls) + " blocks of order " + o + " would merge as buddies: "
            + "after the larger free blocks only " + (pairs + single) + " aligned order-"
            + (o + 1) + " regions are left to hold one each");
      }
    }
    if (total > slots) {
      throw new IllegalArgumentException("zone " + zoneName + ", order " + o + ": " + total
          + " free blocks of order " + o + " need as many aligned order-" + o + " regions but "
          + "only " + slots + " are left after the larger free blocks");
    }
  }

  private static String className(int[] cls) {
    StringBuilder sb = new StringBuilder();
    for (int mt : cls) {
      sb.append(sb.length() == 0 ? "" : "/").append(MigrateType.name(mt));
    }
    return sb.toString();
  }

  private long totalAt(int o) {
    long n = 0;
    for (int mt = 0; mt < TYPES; mt++) {
      n += free[mt][o];
    }
    return n;
  }

  private void addLarge(int pageblock, int o, int mt) {
    Arrays.fill(pageblockType, pageblock, pageblock + (1 << (o - pbOrder)), (byte) mt);
    add(pageblock << pbOrder, o, mt);
  }

  private void add(int pageOffset, int o, int mt) {
    offset[size] = pageOffset;
    order[size] = (byte) o;
    type[size] = (byte) mt;
    size++;
  }

  // ---------------------------------------------------------------- below pageblock order

  /**
   * Step 3: the open pageblocks, ascending, go to the types in type order: first the pageblocks
   * that host the type's small free blocks, then its wholly allocated ones.
   *
   * @return per type, the pageblock indexes that host its small free blocks
   */
  private int[][] assignPageblocks(int[] open, long[] smallPageblocks) {
    int[][] hosts = new int[TYPES][];
    int next = 0;
    for (int mt = 0; mt < TYPES; mt++) {
      int rest = (int) (blocks[mt] - largePageblocks(mt));
      hosts[mt] = Arrays.copyOfRange(open, next, next + (int) smallPageblocks[mt]);
      for (int i = 0; i < rest; i++) {
        pageblockType[open[next++]] = (byte) mt;
      }
    }
    return hosts;
  }

  /** Step 4: the type's blocks below pageblock order into its host pageblocks. */
  private void placeSmallBlocks(int mt, int[] hostPageblocks, long[] need) {
    int[] kept = new int[hostPageblocks.length];
    for (int i = 0; i < kept.length; i++) {
      kept[i] = hostPageblocks[i] << pbOrder;
    }
    for (int o = pbOrder - 1; o >= 0; o--) {
      int n = (int) free[mt][o];
      int split = (int) ((Math.max(0, need[o] - n) + 1) / 2);
      int half = 1 << o;
      int[] next = new int[n + 2 * split];
      int k = 0;
      for (int i = 0; i < n; i++) {
        add(kept[i] + half, o, mt); // expand() leaves the upper half free
        next[k++] = kept[i];
      }
      for (int i = n; i < n + split; i++) {
        next[k++] = kept[i];
        next[k++] = kept[i] + half;
      }
      kept = next;
    }
  }
}
