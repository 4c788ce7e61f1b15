package io.hintlab.guest.mm;

import static io.hintlab.guest.mm.MigrateType.CMA;
import static io.hintlab.guest.mm.MigrateType.HIGHATOMIC;
import static io.hintlab.guest.mm.MigrateType.ISOLATE;
import static io.hintlab.guest.mm.MigrateType.MOVABLE;
import static io.hintlab.guest.mm.MigrateType.RECLAIMABLE;
import static io.hintlab.guest.mm.MigrateType.TYPES;
import static io.hintlab.guest.mm.MigrateType.UNMOVABLE;

import io.hintlab.guest.mm.proc.PagetypeinfoData;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Test helper: pagetypeinfo counts of a random machine state that a kernel can reach. It lays
 * out random pageblock types, then walks each MAX_ORDER region as a buddy tree and makes nodes
 * free, allocated or split at random, never making a node free when its buddy is a free block
 * __free_one_page() would have merged it with. The counts therefore always have a layout, which
 * the importer must find.
 */
final class RandomMachine {
  private final Random r;
  private final int pbOrder;
  private final int maxOrder;
  private final int nrPageblocks;
  private final byte[] pbType;
  private final long[][] free;
  /** Chance that a node of pageblock order or more becomes free: high for nearly idle zones. */
  private final double bigFree;

  private RandomMachine(Random r, int nrOrders, int pbOrder, int nrPageblocks) {
    this.r = r;
    this.bigFree = r.nextBoolean() ? 0.5 : 0.9;
    this.pbOrder = pbOrder;
    this.maxOrder = nrOrders - 1;
    this.nrPageblocks = nrPageblocks;
    this.pbType = new byte[nrPageblocks];
    this.free = new long[TYPES][nrOrders];
  }

  /** The counts of a random reachable state; mostly x86-64 geometry, sometimes another one. */
  static PagetypeinfoData generate(long seed) {
    Random r = new Random(seed);
    int nrOrders = 11;
    int pbOrder = 9;
    if (r.nextInt(3) == 0) {
      nrOrders = 1 + r.nextInt(11);
      pbOrder = r.nextInt(nrOrders);
    }
    List<Integer> types = new ArrayList<>(List.of(UNMOVABLE, MOVABLE, RECLAIMABLE, HIGHATOMIC));
    if (r.nextBoolean()) {
      types.add(CMA);
    }
    if (r.nextInt(5) != 0) {
      types.add(ISOLATE);
    }
    List<PagetypeinfoData.ZoneCounts> zones = new ArrayList<>();
    for (ZoneType t : List.of(ZoneType.DMA, ZoneType.DMA32, ZoneType.NORMAL, ZoneType.MOVABLE)) {
      if (r.nextInt(3) != 0 || (t == ZoneType.MOVABLE && zones.isEmpty())) {
        zones.add(zone(r, t, nrOrders, pbOrder, types));
      }
    }
    List<String> names = types.stream().map(MigrateType::name).toList();
    return new PagetypeinfoData(pbOrder, nrOrders, 0, names, zones);
  }

  private static PagetypeinfoData.ZoneCounts zone(Random r, ZoneType t, int nrOrders, int pbOrder,
      List<Integer> types) {
    int maxPageblocks = Math.max(1, Math.min(300, (1 << 17) >> pbOrder));
    RandomMachine m = new RandomMachine(r, nrOrders, pbOrder, 1 + r.nextInt(maxPageblocks));
    m.layTypes(types);
    for (int s = 0; s < m.nrPageblocks; s += 1 << (m.maxOrder - pbOrder)) {
      m.node(s << pbOrder, m.maxOrder, -1);
    }
    long[] blocks = new long[TYPES];
    for (byte b : m.pbType) {
      blocks[b]++;
    }
    return new PagetypeinfoData.ZoneCounts(t, m.free, null, blocks);
  }

  /** Per MAX_ORDER region: one type, mostly one type, or a random mix. */
  private void layTypes(List<Integer> types) {
    int perMax = 1 << (maxOrder - pbOrder);
    for (int s = 0; s < nrPageblocks; s += perMax) {
      int style = r.nextInt(4);
      int main = pick(types);
      for (int i = s; i < Math.min(nrPageblocks, s + perMax); i++) {
        boolean other = style == 3 || (style == 2 && r.nextInt(4) == 0);
        pbType[i] = (byte) (other ? pick(types) : main);
      }
    }
  }

  private int pick(List<Integer> types) {
    int x = r.nextInt(10);
    if (x < 5) {
      return MOVABLE;
    }
    if (x < 7) {
      return UNMOVABLE;
    }
    return types.get(r.nextInt(types.size()));
  }

  /**
   * One node of order k at page start: free (if its pages are one type and its buddy would not
   * merge with it), allocated, or split into two halves.
   *
   * @param siblingFree the type of the buddy if it is a free block, else -1
   * @return the node's type if it became a free block, else -1
   */
  private int node(int start, int k, int siblingFree) {
    long zonePages = (long) nrPageblocks << pbOrder;
    if (start >= zonePages) {
      return -1;
    }
    if (start + (1L << k) > zonePages) {
      split(start, k); // cut by the zone end: only smaller blocks fit
      return -1;
    }
    int t = uniformType(start, k);
    boolean mayBeFree = t >= 0
        && (k == maxOrder || siblingFree < 0 || !merges(t, siblingFree, k));
    if (mayBeFree && r.nextDouble() < (k >= pbOrder ? bigFree : 0.35)) {
      free[t][k]++;
      return t;
    }
    if (k == 0 || (t >= 0 && r.nextDouble() < 0.15)) {
      return -1; // allocated
    }
    split(start, k);
    return -1;
  }

  private void split(int start, int k) {
    int left = node(start, k - 1, -1);
    node(start + (1 << (k - 1)), k - 1, left);
  }

  /** The type of every pageblock the node covers, or -1 if they differ. */
  private int uniformType(int start, int k) {
    int first = start >>> pbOrder;
    int t = pbType[first];
    for (int i = first + 1; i < first + (1 << Math.max(0, k - pbOrder)); i++) {
      if (pbType[i] != t) {
        return -1;
      }
    }
    return t;
  }

  /** __free_one_page()'s merge rule, written out apart from the importer's. */
  private boolean merges(int a, int b, int k) {
    if (k < pbOrder || a == b) {
      return true;
    }
    return a < MigrateType.PCPTYPES && b < MigrateType.PCPTYPES;
  }
}
