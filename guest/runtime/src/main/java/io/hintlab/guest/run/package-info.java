/**
 * {@code hintlab guest run}: the guest as a process attached to a host. {@link
 * io.hintlab.guest.run.GuestRun} wires the transport, the guest RAM, the allocator model, a
 * workload whose pages live in that RAM, and a reporting strategy whose sink is the device;
 * {@link io.hintlab.guest.run.RamPages} is the workload's page writer and the allocator's page
 * copier over the RAM.
 */
package io.hintlab.guest.run;
