package io.hintlab.host.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.hintlab.host.device.FreePageHinting.Relaxation;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class GuardSwitchesTest {

  @Test
  void everyGuardIsOnByDefault() {
    assertTrue(GuardSwitches.ALL_ON.allOn());
    assertEquals(List.of(), GuardSwitches.ALL_ON.names());
    assertTrue(GuardSwitches.ALL_ON.relaxations().isEmpty());
    assertEquals(GuardSwitches.ALL_ON, GuardSwitches.parse(List.of()));
  }

  @Test
  void eachNameTurnsOffItsGuardOnly() {
    GuardSwitches across = GuardSwitches.parse(List.of("apply-hints-across-sync"));
    assertEquals(new GuardSwitches(true, false, false), across);
    assertEquals(EnumSet.of(Relaxation.APPLY_ACROSS_SYNC), across.relaxations());
    GuardSwitches stale = GuardSwitches.parse(List.of("accept-stale-ids"));
    assertEquals(new GuardSwitches(false, true, false), stale);
    assertEquals(EnumSet.of(Relaxation.ACCEPT_STALE_IDS), stale.relaxations());
    GuardSwitches noStop = GuardSwitches.parse(List.of("no-stop-before-sync"));
    assertEquals(new GuardSwitches(false, false, true), noStop);
    assertTrue(noStop.relaxations().isEmpty(), "the engine, not the device, skips the STOP");
    assertFalse(noStop.allOn());
  }

  @Test
  void namesComeBackInDeclarationOrder() {
    GuardSwitches all = GuardSwitches.parse(
        List.of("no-stop-before-sync", "apply-hints-across-sync", "accept-stale-ids"));
    assertEquals(List.of("apply-hints-across-sync", "accept-stale-ids", "no-stop-before-sync"),
        all.names());
    assertEquals(all, GuardSwitches.parse(all.names()));
    assertEquals("guards off: apply-hints-across-sync, accept-stale-ids, no-stop-before-sync",
        all.toString());
  }

  @Test
  void anUnknownNameIsRefusedWithTheValidOnes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> GuardSwitches.parse(List.of("no-stop")));
    assertEquals("unknown guard switch 'no-stop'; valid: apply-hints-across-sync,"
        + " accept-stale-ids, no-stop-before-sync", e.getMessage());
  }
}
