package io.hintlab.host.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PageSenderTest {
  private static final int PAGE = 4096;

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3})
  void copiesDataPagesAndCountsZeroPagesApart(long seed) {
    try (Arena a = Arena.ofConfined()) {
      int pages = 64;
      MemorySegment src = a.allocate((long) pages * PAGE);
      MemorySegment dst = a.allocate((long) pages * PAGE);
      dst.fill((byte) 0x5a); // stale destination content must be overwritten
      SplittableRandom rnd = new SplittableRandom(seed);
      int data = 0;
      for (int pfn = 0; pfn < pages; pfn++) {
        if (rnd.nextBoolean()) {
          src.set(ValueLayout.JAVA_BYTE, (long) pfn * PAGE + rnd.nextInt(PAGE), (byte) 1);
          data++;
        }
      }
      PageSender s = new PageSender(src, dst, PAGE, Bandwidth.UNLIMITED);
      for (int pfn = 0; pfn < pages; pfn++) {
        s.send(pfn, false);
      }
      assertEquals(data, s.normalPages(), "seed " + seed);
      assertEquals(pages - data, s.zeroPages(), "seed " + seed);
      assertEquals(-1L, src.mismatch(dst), "seed " + seed);
      assertEquals(data * (long) (PAGE + PageSender.PAGE_HEADER_BYTES)
          + (pages - data) * (long) PageSender.ZERO_PAGE_WIRE_BYTES, s.wireBytes(), "seed " + seed);
    }
  }

  @Test
  void knownHoleIsSentAsZeroWithoutLookingAtContent() {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment src = a.allocate(PAGE);
      MemorySegment dst = a.allocate(PAGE);
      src.fill((byte) 7);
      PageSender s = new PageSender(src, dst, PAGE, Bandwidth.UNLIMITED);
      assertFalse(s.send(0, true));
      assertTrue(PageSender.isZero(dst));
      assertEquals(1, s.zeroPages());
      assertEquals(1, s.holePages());
    }
  }

  @Test
  void linkTimeFollowsTheBandwidth() {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment src = a.allocate(PAGE);
      src.fill((byte) 1);
      // 4104 wire bytes at 41040 B/s: 100 ms of link time, derived rather than measured.
      PageSender s = new PageSender(src, a.allocate(PAGE), PAGE, new Bandwidth(41_040L));
      s.send(0, false);
      assertEquals(100, s.linkMillis());
    }
  }

  @Test
  void anInterruptEndsAPacingWaitAtOnce() throws Exception {
    try (Arena a = Arena.ofShared()) {
      MemorySegment src = a.allocate(PAGE);
      src.fill((byte) 1);
      // 1 B/s: pacing one page would take more than an hour.
      PageSender s = new PageSender(src, a.allocate(PAGE), PAGE, new Bandwidth(1));
      Thread t = new Thread(() -> s.send(0, false), "pacing-test");
      t.start();
      t.interrupt();
      t.join(10_000);
      assertFalse(t.isAlive(), "the sender still waits after an interrupt");
      assertEquals(1, s.normalPages());
      assertEquals(4104L * 1000, s.linkMillis(), "the link time is still the bytes' time");
    }
  }

  @Test
  void rejectsMismatchedSegments() {
    try (Arena a = Arena.ofConfined()) {
      assertThrows(IllegalArgumentException.class,
          () -> new PageSender(a.allocate(PAGE), a.allocate(2 * PAGE), PAGE, Bandwidth.UNLIMITED));
      assertThrows(IllegalArgumentException.class,
          () -> new PageSender(a.allocate(100), a.allocate(100), PAGE, Bandwidth.UNLIMITED));
    }
  }
}
