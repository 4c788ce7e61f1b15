package io.hintlab.guest.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.hintlab.guest.mm.MemMap;
import io.hintlab.guest.mm.PageAllocator;
import java.util.HashMap;
import java.util.Map;

/**
 * A page writer that records every write by its generation and checks that each verify matches
 * a write not yet verified, with the same owner and size, while the block is still allocated
 * (so the verify came before the free). {@code badEvery} makes every n-th verify report its pages
 * bad (0: never).
 */
final class RecordingWriter implements PageWriter {
  private record Write(int pfn, int nrPages, int owner) {}

  private final PageAllocator pa;
  private final String context;
  private final int badEvery;
  private final Map<Long, Write> open = new HashMap<>();
  long pagesWritten;
  long pagesVerified;
  long writes;
  long verifies;
  long badReported;

  RecordingWriter(PageAllocator pa, String context) {
    this(pa, context, 0);
  }

  RecordingWriter(PageAllocator pa, String context, int badEvery) {
    this.pa = pa;
    this.context = context;
    this.badEvery = badEvery;
  }

  @Override
  public void write(int pfn, int nrPages, int owner, long generation) {
    assertEquals(MemMap.K_ALLOC, pa.memMap().kind(pfn), context + ": write of a free pfn " + pfn);
    assertNull(open.put(generation, new Write(pfn, nrPages, owner)),
        context + ": generation " + generation + " written twice");
    writes++;
    pagesWritten += nrPages;
  }

  @Override
  public int verify(int pfn, int nrPages, int owner, long generation) {
    Write w = open.remove(generation);
    assertNotNull(w, context + ": verify of generation " + generation + " never written");
    assertEquals(w.nrPages(), nrPages, context + ": size of generation " + generation);
    assertEquals(w.owner(), owner, context + ": owner of generation " + generation);
    assertEquals(MemMap.K_ALLOC, pa.memMap().kind(pfn),
        context + ": verify after the free of pfn " + pfn);
    verifies++;
    pagesVerified += nrPages;
    int bad = badEvery > 0 && verifies % badEvery == 0 ? nrPages : 0;
    badReported += bad;
    return bad;
  }

  /** Written blocks not verified yet. */
  int open() {
    return open.size();
  }
}
