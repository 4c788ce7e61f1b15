package io.hintlab.host.memory;

import java.io.IOException;

/**
 * Frees the backing of a byte range of a guest's RAM file. The default punches a hole with
 * {@code fallocate(PUNCH_HOLE | KEEP_SIZE)} and falls back to {@code madvise(MADV_REMOVE)};
 * tests wrap it to interleave guest writes with a discard.
 */
@FunctionalInterface
public interface Discarder {
  /**
   * Frees {@code [offset, offset + len)} of the file; afterwards it reads as zeros.
   *
   * @throws IOException when neither call succeeds
   */
  void discard(long offset, long len) throws IOException;
}
