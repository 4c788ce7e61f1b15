/**
 * Race detection: {@link io.hintlab.host.races.RaceDetector} (per guest, dirty-log syncs around
 * each discard) writing {@link io.hintlab.host.races.RaceEvent}s of a
 * {@link io.hintlab.host.races.RaceKind} to the host-wide bounded
 * {@link io.hintlab.host.races.RaceLog}.
 */
package io.hintlab.host.races;
