package io.hintlab.guest.ram;

/**
 * A snapshot of {@link GuestRam}'s counters for the run summary. Each field is read on its own,
 * so a snapshot taken while writers run is not one instant.
 *
 * @param writes pages stamped by {@link GuestRam#writePage}
 * @param verifies pages checked by {@link GuestRam#verifyPage}
 * @param lostWrites verified pages whose stamp read as zeros
 * @param corruptPages verified pages with any other wrong content
 * @param poisonedPages pages filled with the poison value
 * @param zeroedPages pages zeroed on allocation (init_on_alloc)
 */
public record RamCounters(long writes, long verifies, long lostWrites, long corruptPages,
    long poisonedPages, long zeroedPages) {}
