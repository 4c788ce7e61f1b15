package io.hintlab.host.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PageBitmapTest {
  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 42})
  void shouldAgreeWithBitSet(long seed) {
    Random r = new Random(seed);
    int size = 1000 + r.nextInt(500);
    PageBitmap b = new PageBitmap(size);
    BitSet ref = new BitSet(size);
    for (int i = 0; i < 2000; i++) {
      int p = r.nextInt(size);
      switch (r.nextInt(3)) {
        case 0 -> {
          assertEquals(!ref.get(p), b.set(p), "seed " + seed);
          ref.set(p);
        }
        case 1 -> {
          assertEquals(ref.get(p), b.clear(p), "seed " + seed);
          ref.clear(p);
        }
        default -> assertEquals(ref.get(p), b.test(p), "seed " + seed);
      }
    }
    assertEquals(ref.cardinality(), b.cardinality(), "seed " + seed);
    for (int from = 0; from < size; from += 37) {
      int want = ref.nextSetBit(from);
      assertEquals(want, b.nextSetBit(from), "seed " + seed + " from " + from);
    }
  }

  @ParameterizedTest
  @ValueSource(longs = {7, 8})
  void shouldCountRanges(long seed) {
    PageBitmap b = new PageBitmap(300);
    assertEquals(10, b.setRange(60, 10), "seed " + seed);
    assertEquals(5, b.countRange(65, 20));
    assertEquals(3, b.clearRange(60, 3));
    assertTrue(b.test(63));
    assertFalse(b.test(60));
    assertEquals(-1, b.nextSetBit(70));
  }
}
