package io.hintlab.host.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MigrationOptionsTest {
  private static final Path DIR = Path.of("/nonexistent/dest");

  @Test
  void defaultsAreQemus() {
    MigrationOptions o = MigrationOptions.defaults(DIR);
    assertEquals(128L << 20, o.bandwidth().bytesPerSecond(), "MAX_THROTTLE");
    assertEquals(300, o.downtimeLimitMs(), "DEFAULT_MIGRATE_SET_DOWNTIME");
    assertEquals(30, o.maxRounds());
    assertTrue(o.useHints());
    assertTrue(o.guards().allOn());
    assertEquals(DIR, o.destinationDir());
  }

  @Test
  void copiesChangeOneValue() {
    MigrationOptions o = MigrationOptions.defaults(DIR).withBandwidth(Bandwidth.UNLIMITED)
        .withDowntimeLimitMs(0).withMaxRounds(1).withHints(false)
        .withGuards(new GuardSwitches(true, false, false));
    assertEquals(new MigrationOptions(Bandwidth.UNLIMITED, 0, 1, false,
        new GuardSwitches(true, false, false), DIR), o);
  }

  @Test
  void badValuesAreRefusedWithExactMessages() {
    MigrationOptions d = MigrationOptions.defaults(DIR);
    assertEquals("downtime limit must be in [0, 2000000] ms, was -1",
        assertThrows(IllegalArgumentException.class, () -> d.withDowntimeLimitMs(-1))
            .getMessage());
    assertEquals("downtime limit must be in [0, 2000000] ms, was 2000001",
        assertThrows(IllegalArgumentException.class, () -> d.withDowntimeLimitMs(2_000_001))
            .getMessage());
    assertEquals("max rounds must be in [1, 100000], was 0",
        assertThrows(IllegalArgumentException.class, () -> d.withMaxRounds(0)).getMessage());
    assertEquals("bandwidth must not be null",
        assertThrows(IllegalArgumentException.class, () -> d.withBandwidth(null)).getMessage());
    assertEquals("guards must not be null",
        assertThrows(IllegalArgumentException.class, () -> d.withGuards(null)).getMessage());
    assertEquals("destination directory must not be null",
        assertThrows(IllegalArgumentException.class, () -> MigrationOptions.defaults(null))
            .getMessage());
  }
}
