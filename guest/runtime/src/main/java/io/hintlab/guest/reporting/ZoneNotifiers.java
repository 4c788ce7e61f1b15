package io.hintlab.guest.reporting;

import io.hintlab.guest.mm.FreePageNotifier;
import io.hintlab.guest.mm.Zone;
import java.util.List;

/**
 * Installing and removing a strategy's free hook ({@code page_reporting_notify_free()} and its
 * equivalents) on the zones, the same way for every strategy.
 */
final class ZoneNotifiers {
  private ZoneNotifiers() {}

  /** Installs notifier on zone. */
  static void install(Zone zone, FreePageNotifier notifier) {
    // Locking: the free path reads the notifier under the zone lock, so publish it under it
    zone.lock.lock();
    try {
      zone.setFreePageNotifier(notifier);
    } finally {
      zone.lock.unlock();
    }
  }

  /** Installs the same notifier on every zone. */
  static void installAll(List<Zone> zones, FreePageNotifier notifier) {
    for (Zone z : zones) {
      install(z, notifier);
    }
  }

  /** Removes the notifier of every zone; once it returns no free is still inside an old one. */
  static void removeAll(List<Zone> zones) {
    for (Zone z : zones) {
      install(z, null);
    }
  }
}
