/**
 * Guest memory as the host holds it.
 *
 * <ul>
 *   <li>{@link io.hintlab.host.memory.GuestMemory}: one guest's RAM (sparse tmpfs file or memfd,
 *       mapped shared), its {@link io.hintlab.host.memory.DirtyLog} and the discard map.
 *       {@code discard(pfn, n)} punches a hole ({@code fallocate(PUNCH_HOLE|KEEP_SIZE)}, fallback
 *       {@code MADV_REMOVE}); {@code syncDirty}/{@code syncAllDirty} fetch-and-clear the guest's
 *       dirty bits, count refaults and feed every registered {@link
 *       io.hintlab.host.memory.DirtySink} (e.g. a migration bitmap); {@code allocatedBytes()} is
 *       the RSS ({@code st_blocks * 512}); {@code readDiscardMap} exposes the discard map.
 *   <li>{@link io.hintlab.host.memory.PageBitmap}: a {@code long[]} pfn set.
 *   <li>{@link io.hintlab.host.memory.NativeLibc}: the FFM bindings (fallocate, madvise, fstat,
 *       memfd_create), {@code allocatedBytes(Path)} for any file.
 *   <li>{@link io.hintlab.host.memory.StateDirs}: private 0700 directories on /dev/shm.
 * </ul>
 *
 * <p>Dirty-log format (device.proto): bit {@code pfn & 63} of little-endian 64-bit word
 * {@code pfn >> 6}; the guest ORs bits in atomically, the host fetch-and-clears them.
 */
package io.hintlab.host.memory;
