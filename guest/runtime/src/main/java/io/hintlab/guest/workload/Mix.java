package io.hintlab.guest.workload;

import io.hintlab.guest.mm.Gfp;
import java.util.SplittableRandom;

/**
 * A distribution of allocation orders and GFP flags, as lookup tables of 1024 entries so that a
 * draw is one random int and one array read.
 */
final class Mix {
  private static final int SLOTS = 1024;

  /** GFP flags of the three pcp migratetypes, in the order of the type weights. */
  static final int[] TYPE_GFP = {
    Gfp.GFP_KERNEL, Gfp.GFP_KERNEL_RECLAIMABLE, Gfp.GFP_HIGHUSER_MOVABLE
  };

  private final byte[] orders = new byte[SLOTS];
  private final int[] gfps = new int[SLOTS];

  /**
   * A mix.
   *
   * @param orderWeights weight of order i at index i
   * @param typeWeights weights of UNMOVABLE (GFP_KERNEL), RECLAIMABLE (GFP_KERNEL_RECLAIMABLE),
   *     MOVABLE (GFP_HIGHUSER_MOVABLE)
   * @throws IllegalArgumentException for a negative weight, all weights 0, or not 3 type weights
   */
  Mix(int[] orderWeights, int[] typeWeights) {
    if (typeWeights.length != TYPE_GFP.length) {
      throw new IllegalArgumentException("typeWeights must have 3 entries");
    }
    int[] order = slots(orderWeights);
    int[] type = slots(typeWeights);
    for (int i = 0; i < SLOTS; i++) {
      orders[i] = (byte) order[i];
      gfps[i] = TYPE_GFP[type[i]];
    }
  }

  /** For each slot, the index of the weight it falls under (proportional shares of SLOTS). */
  private static int[] slots(int[] weights) {
    long total = 0;
    for (int w : weights) {
      if (w < 0) {
        throw new IllegalArgumentException("weights must be >= 0");
      }
      total += w;
    }
    if (total == 0) {
      throw new IllegalArgumentException("weights must not all be 0");
    }
    int[] out = new int[SLOTS];
    int slot = 0;
    long cumulative = 0;
    for (int v = 0; v < weights.length; v++) {
      cumulative += weights[v];
      int end = (int) (cumulative * SLOTS / total);
      for (; slot < end; slot++) {
        out[slot] = v;
      }
    }
    return out;
  }

  /** A random order. */
  int order(SplittableRandom rnd) {
    return orders[rnd.nextInt() & (SLOTS - 1)];
  }

  /** Random GFP flags. */
  int gfp(SplittableRandom rnd) {
    return gfps[rnd.nextInt() & (SLOTS - 1)];
  }
}
