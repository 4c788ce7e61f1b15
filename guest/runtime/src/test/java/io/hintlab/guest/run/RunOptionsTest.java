package io.hintlab.guest.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.hintlab.guest.driver.FreePageVq;
import io.hintlab.guest.reporting.ReportingOptions;
import io.hintlab.guest.transport.CallDeadlines;
import io.hintlab.guest.transport.GuestAddress;
import io.hintlab.guest.transport.ReconnectPolicy;
import io.hintlab.guest.workload.WorkloadConfig;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The checks {@link RunOptions} makes itself, for callers other than the command line: the
 * resident set must fit in the memory, with a message that gives both sizes.
 */
class RunOptionsTest {
  private static final long MIB = 1L << 20;

  private static RunOptions options(long memoryBytes, long residentBytes) {
    return new RunOptions(GuestAddress.parse("unix:/nonexistent/host.sock"), "options-test",
        memoryBytes, residentBytes, 2, "page-reporting", ReportingOptions.defaults(), "idle",
        WorkloadConfig.DEFAULT, 1, 0, 0, Duration.ZERO, Duration.ZERO, false, Duration.ZERO, true,
        true, false, FreePageVq.QEMU_FREE_PAGE_VQ_SIZE, ReconnectPolicy.exit(),
        CallDeadlines.defaults());
  }

  @Test
  void residentBelowTheMemoryIsKept() {
    assertEquals(0, options(128 * MIB, 0).residentBytes());
    assertEquals(400 * MIB, options(4096 * MIB, 400 * MIB).residentBytes());
    assertEquals(128 * MIB - 1, options(128 * MIB, 128 * MIB - 1).residentBytes());
  }

  @Test
  void negativeResidentIsRejected() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> options(128 * MIB, -1));
    assertEquals("resident must be >= 0, got -1", e.getMessage());
  }

  @ParameterizedTest(name = "memory {0}, resident {1}")
  @CsvSource(delimiter = '|', value = {
    "134217728|209715200|resident must be less than the memory size 128 MiB, was 200 MiB",
    "134217728|134217728|resident must be less than the memory size 128 MiB, was 128 MiB",
    "4294967296|4294967297|resident must be less than the memory size 4 GiB, was 4294967297 bytes",
  })
  void residentAsLargeAsTheMemoryIsRejectedGivingBothSizes(long memory, long resident,
      String message) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> options(memory, resident));
    assertEquals(message, e.getMessage());
  }
}
