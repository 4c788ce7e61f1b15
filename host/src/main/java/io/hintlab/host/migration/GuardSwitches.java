package io.hintlab.host.migration;

import io.hintlab.host.device.FreePageHinting.Relaxation;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Fault injection for free page hinting during a migration: each switch turns off one of the
 * guards QEMU relies on, so users can see what that guard buys. All guards are on by default
 * ({@link #ALL_ON}); a {@code true} component means its guard is OFF.
 *
 * <p>Each guard stops a hint from clearing a migration-bitmap bit that a bitmap sync set for a
 * write the guest made after it hinted the page (the Firecracker-style race: the guest reuses a
 * hinted page before the host has used the hint):
 *
 * <ul>
 *   <li>{@value #APPLY_HINTS_ACROSS_SYNC}: the device still applies the hints of a stopped round,
 *       so a stale round's late hints clear bits after the sync that re-dirtied them (QEMU's
 *       get_free_page_hints() uses inbufs only in S_START).
 *   <li>{@value #ACCEPT_STALE_IDS}: the device takes a START carrying an old round's id for the
 *       current one and applies that round's hints (QEMU starts a round only on a START with the
 *       current id; spec: the device "MUST ignore pages with an id not equal to the current
 *       one").
 *   <li>{@value #NO_STOP_BEFORE_SYNC}: the migration syncs the bitmap without stopping hinting
 *       first (QEMU's PRECOPY_NOTIFY_BEFORE_BITMAP_SYNC; commit c13c4153f7: "Guest reporting must
 *       be disabled before the migration dirty bitmap is synchronized").
 * </ul>
 *
 * @param applyHintsAcrossSync {@value #APPLY_HINTS_ACROSS_SYNC}: late hints of a stopped round
 *     are applied
 * @param acceptStaleIds {@value #ACCEPT_STALE_IDS}: hints under an old id are applied
 * @param noStopBeforeSync {@value #NO_STOP_BEFORE_SYNC}: no STOP before each bitmap sync
 */
public record GuardSwitches(
    boolean applyHintsAcrossSync, boolean acceptStaleIds, boolean noStopBeforeSync) {

  /** Name of the switch that applies a stopped round's late hints. */
  public static final String APPLY_HINTS_ACROSS_SYNC = "apply-hints-across-sync";
  /** Name of the switch that applies hints under stale ids. */
  public static final String ACCEPT_STALE_IDS = "accept-stale-ids";
  /** Name of the switch that drops the STOP before each bitmap sync. */
  public static final String NO_STOP_BEFORE_SYNC = "no-stop-before-sync";
  /** Every guard on: QEMU's behaviour. */
  public static final GuardSwitches ALL_ON = new GuardSwitches(false, false, false);

  /**
   * Turns off the guards named in {@code names} (each name at most once, any order).
   *
   * @throws IllegalArgumentException naming an unknown switch and listing the valid ones
   */
  public static GuardSwitches parse(Collection<String> names) {
    boolean across = false;
    boolean stale = false;
    boolean noStop = false;
    for (String n : names) {
      switch (n) {
        case APPLY_HINTS_ACROSS_SYNC -> across = true;
        case ACCEPT_STALE_IDS -> stale = true;
        case NO_STOP_BEFORE_SYNC -> noStop = true;
        default ->
            throw new IllegalArgumentException(
                "unknown guard switch '" + n + "'; valid: " + APPLY_HINTS_ACROSS_SYNC + ", "
                    + ACCEPT_STALE_IDS + ", " + NO_STOP_BEFORE_SYNC);
      }
    }
    return new GuardSwitches(across, stale, noStop);
  }

  /** Whether every guard is on. */
  public boolean allOn() {
    return !applyHintsAcrossSync && !acceptStaleIds && !noStopBeforeSync;
  }

  /** The names of the switches set (the guards turned off), in declaration order. */
  public List<String> names() {
    List<String> out = new ArrayList<>(3);
    if (applyHintsAcrossSync) {
      out.add(APPLY_HINTS_ACROSS_SYNC);
    }
    if (acceptStaleIds) {
      out.add(ACCEPT_STALE_IDS);
    }
    if (noStopBeforeSync) {
      out.add(NO_STOP_BEFORE_SYNC);
    }
    return List.copyOf(out);
  }

  /** The device-side relaxations these switches need (the third switch is the engine's own). */
  Set<Relaxation> relaxations() {
    Set<Relaxation> r = EnumSet.noneOf(Relaxation.class);
    if (applyHintsAcrossSync) {
      r.add(Relaxation.APPLY_ACROSS_SYNC);
    }
    if (acceptStaleIds) {
      r.add(Relaxation.ACCEPT_STALE_IDS);
    }
    return r;
  }

  @Override
  public String toString() {
    return allOn() ? "all guards on" : "guards off: " + String.join(", ", names());
  }
}
