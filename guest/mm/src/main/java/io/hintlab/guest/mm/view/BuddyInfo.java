package io.hintlab.guest.mm.view;

import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.Zone;

/**
 * /proc/buddyinfo, as frag_show_print() (mm/vmstat.c) prints it: one line per populated zone,
 * {@code "Node %d, zone %8s "} then {@code "%6lu "} of free_area[order].nr_free for every order
 * (free blocks of that order on all of the zone's free lists; pages on per-cpu lists are not
 * counted), then a newline.
 */
public final class BuddyInfo {
  private BuddyInfo() {}

  /** The text of /proc/buddyinfo for the model's node. */
  public static String render(PageAllocator a) {
    StringBuilder sb = new StringBuilder();
    for (Zone z : a.zones()) {
      Fmt.nodeZone(sb, z).append(' ');
      for (long n : ExtFrag.nrFree(z)) {
        Fmt.right(sb, n, 6).append(' ');
      }
      sb.append('\n');
    }
    return sb.toString();
  }
}
