/**
 * {@code ./hintlab demo}: until the guest/host pair exists, the allocator model alone on the
 * {@code fragment} workload ({@link io.hintlab.guest.demo.ModelDemo}).
 */
package io.hintlab.guest.demo;
