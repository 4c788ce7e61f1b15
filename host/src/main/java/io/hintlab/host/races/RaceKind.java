package io.hintlab.host.races;

/** What a race event is; {@link #wireName()} is the name in control.proto's RaceEvent.kind. */
public enum RaceKind {
  /**
   * A reported page the guest wrote while the host held its report (seen dirty by the dirty-log
   * sync right after the discard): the guest broke "must not use reported pages until acked".
   */
  WRITTEN_DURING_REPORT("written_during_report"),
  /**
   * A hinted page written between the host's receipt of the hint and the end of its discard
   * (discard-hints modes): the guest reused a hinted block before the device was done with it.
   */
  DIRTIED_BEFORE_HINT_DISCARD("dirtied_before_hint_discard"),
  /** Hinted ranges with a command id that is not the device's current one, or sent in STOP/DONE. */
  STALE_HINT("stale_hint"),
  /** An inflated page (given to the host) found dirty: the guest used a page in the balloon. */
  WRITTEN_WHILE_INFLATED("written_while_inflated");

  private final String wireName;

  RaceKind(String wireName) {
    this.wireName = wireName;
  }

  /** The snake_case name used on the wire and in metrics. */
  public String wireName() {
    return wireName;
  }
}
