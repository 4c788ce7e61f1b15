package io.hintlab.host.races;

/**
 * One observed race.
 *
 * @param sequence position in the host-wide log, from 0
 * @param guestId session id of the guest
 * @param kind what was observed
 * @param pfn the page (first page of the range for range-level events)
 * @param timeNs host monotonic time ({@link System#nanoTime()})
 * @param detail a short human-readable explanation
 */
public record RaceEvent(
    long sequence, String guestId, RaceKind kind, long pfn, long timeNs, String detail) {}
