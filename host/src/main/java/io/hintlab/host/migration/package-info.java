/**
 * Pre-copy live-migration simulator and destination verification (DESIGN §6).
 *
 * <p>{@link io.hintlab.host.migration.PrecopyMigration} migrates one attached guest on a named
 * thread: rounds over the {@link io.hintlab.host.migration.MigrationBitmap} paced at a
 * {@link io.hintlab.host.migration.Bandwidth} by the {@link io.hintlab.host.migration.PageSender}
 * (zero pages and {@link io.hintlab.host.migration.HoleScanner holes} counted apart), free page
 * hinting driven in QEMU's precopy-notifier order, stop-and-copy with the guest paused, and the
 * ground-truth check of every owned page with {@link io.hintlab.host.migration.Provenance}-based
 * {@link io.hintlab.host.migration.CorruptionCause attribution}. Its
 * {@link io.hintlab.host.migration.MigrationOptions} include
 * {@link io.hintlab.host.migration.GuardSwitches}, fault injection that turns off one hinting
 * guard at a time; the outcome is a {@link io.hintlab.host.migration.MigrationReport}.
 */
package io.hintlab.host.migration;
