package io.hintlab.guest.reporting;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.hintlab.guest.mm.InvariantChecker;
import io.hintlab.guest.mm.MemMap;
import io.hintlab.guest.mm.MigrateType;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.Zone;
import io.hintlab.guest.reporting.RecordingSink.Block;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A real allocator with {@code page-reporting} on a virtual clock and a {@link RecordingSink}:
 * intent-level helpers to run a pass and to read the free lists.
 */
final class ReportingFixture {
  final PageAllocator allocator;
  final ReportingOptions options;
  final ManualWorkScheduler clock = new ManualWorkScheduler();
  final PageReportingStrategy strategy;
  final RecordingSink sink;
  final ReportingAgent agent;

  private ReportingFixture(PageAllocator allocator, ReportingOptions options) {
    this.allocator = allocator;
    this.options = options;
    this.strategy = new PageReportingStrategy(allocator, options);
    this.sink = new RecordingSink(allocator, options.capacity(), strategy.order());
    this.agent = new ReportingAgent(strategy, sink, options.delay(), clock);
  }

  /** Boots an allocator; the agent is not started yet. */
  static ReportingFixture boot(MmConfig cfg, ReportingOptions options) {
    return new ReportingFixture(new PageAllocator(cfg), options);
  }

  /** Starts the agent (the first pass is then pending, one delay away). */
  ReportingFixture start() {
    agent.start();
    return this;
  }

  /** Lets one delay pass on the virtual clock and checks that exactly one pass ran. */
  ReportingMetrics.Snapshot pass() {
    ReportingMetrics.Snapshot before = agent.metrics().snapshot();
    clock.advance(options.delay());
    ReportingMetrics.Snapshot d = agent.metrics().snapshot().minus(before);
    assertEquals(1, d.passes(), "passes run in one delay");
    InvariantChecker.check(allocator);
    return d;
  }

  /** Requests a pass and runs it. */
  ReportingMetrics.Snapshot requestAndPass() {
    agent.request();
    return pass();
  }

  /** Every free block of order &gt;= minOrder on a non-ISOLATE list of a zone. */
  List<Block> freeBlocks(Zone z, int minOrder) {
    List<Block> out = new ArrayList<>();
    z.lock.lock();
    try {
      for (int o = minOrder; o <= allocator.geometry().maxPageOrder(); o++) {
        for (int mt = 0; mt < MigrateType.TYPES; mt++) {
          if (mt == MigrateType.ISOLATE) {
            continue;
          }
          for (int p = z.freeListFirst(o, mt); p != MemMap.NIL; p = z.freeListNext(p)) {
            out.add(new Block(p, o));
          }
        }
      }
    } finally {
      z.lock.unlock();
    }
    return out;
  }

  /** Every free block of order &gt;= minOrder on a non-ISOLATE list of any zone. */
  List<Block> freeBlocks(int minOrder) {
    List<Block> out = new ArrayList<>();
    for (Zone z : allocator.zones()) {
      out.addAll(freeBlocks(z, minOrder));
    }
    return out;
  }

  /** The free blocks of every order and list, ISOLATE included, marked reported. */
  Set<Block> reportedBlocks() {
    Set<Block> out = new HashSet<>();
    for (Zone z : allocator.zones()) {
      z.lock.lock();
      try {
        for (int o = 0; o <= allocator.geometry().maxPageOrder(); o++) {
          for (int mt = 0; mt < MigrateType.TYPES; mt++) {
            for (int p = z.freeListFirst(o, mt); p != MemMap.NIL; p = z.freeListNext(p)) {
              if (allocator.memMap().isReported(p)) {
                out.add(new Block(p, o));
              }
            }
          }
        }
      } finally {
        z.lock.unlock();
      }
    }
    return out;
  }

  /** The pfns on free_list[mt] of free_area[order] of z, head first. */
  List<Integer> freeList(Zone z, int order, int mt) {
    List<Integer> out = new ArrayList<>();
    z.lock.lock();
    try {
      for (int p = z.freeListFirst(order, mt); p != MemMap.NIL; p = z.freeListNext(p)) {
        out.add(p);
      }
    } finally {
      z.lock.unlock();
    }
    return out;
  }

  /** Whether z passes the reporting gate now: free &gt; low + (capacity &lt;&lt; order). */
  boolean aboveGate(Zone z) {
    return z.watermarkOkCma(
        z.wmarkPages(Zone.WMARK_LOW) + ((long) options.capacity() << strategy.order()));
  }
}
