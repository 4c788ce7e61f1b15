/**
 * Pre-copy live-migration pieces (DESIGN §6): {@link io.hintlab.host.migration.Bandwidth} (rate
 * parsing and pacing math), {@link io.hintlab.host.migration.MigrationBitmap} (all-set start,
 * hints clear bits, syncs merge the dirty log), {@link io.hintlab.host.migration.PageSender}
 * (destination copy, zero pages counted apart, real-time pacing),
 * {@link io.hintlab.host.migration.HoleScanner} (holes found by SEEK_DATA/SEEK_HOLE without
 * reading them) and {@link io.hintlab.host.migration.Provenance} (per-page history and
 * {@link io.hintlab.host.migration.CorruptionCause} attribution). The round loop that drives them
 * against a live device and guest is not in this package yet.
 */
package io.hintlab.host.migration;
