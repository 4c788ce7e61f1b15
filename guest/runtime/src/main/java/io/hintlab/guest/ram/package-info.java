/**
 * Guest RAM: the host's RAM file and dirty-log file mapped shared ({@link
 * io.hintlab.guest.ram.GuestRam}), page stamps that make a discarded page detectable as a lost
 * write ({@link io.hintlab.guest.ram.PageCheck}, {@link io.hintlab.guest.ram.BadPage}), the
 * emulated MMU dirty bit, and PAGE_POISON fills. DESIGN §3.
 */
package io.hintlab.guest.ram;
