package io.hintlab.guest.mm.proc;

import io.hintlab.guest.mm.ZoneType;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The per-zone fields of one node's /proc/zoneinfo that the model can use (zoneinfo_show_print(),
 * mm/vmstat.c). Counters, per-node stats and pagesets are not kept.
 *
 * @param nodeId the NUMA node
 * @param zones every zone the file lists, populated or not, in zone order
 */
public record ZoneinfoData(int nodeId, List<Zone> zones) {

  /** Makes the zone list immutable. */
  public ZoneinfoData {
    zones = List.copyOf(zones);
  }

  /** The zone of a type, if the file lists it. */
  public Optional<Zone> zone(ZoneType type) {
    return zones.stream().filter(z -> z.zone() == type).findFirst();
  }

  /**
   * One zone's lines. Watermarks are as printed, that is min_wmark_pages() etc., which include
   * the watermark boost.
   *
   * @param zone the zone type
   * @param pagesFree "pages free" (NR_FREE_PAGES)
   * @param boost "boost" (watermark_boost; 0 on kernels that do not print it)
   * @param min "min": _watermark[WMARK_MIN] + boost
   * @param low "low"
   * @param high "high"
   * @param promo "promo" (empty for kernels that do not print it, such as 6.1)
   * @param spanned "spanned" (spanned_pages)
   * @param present "present" (present_pages)
   * @param managed "managed" (managed_pages)
   * @param cma "cma" (cma_pages; 0 when absent)
   * @param protection "protection: (...)": lowmem_reserve[] by the position of the zones in the
   *     file
   * @param startPfn "start_pfn:" (printed for populated zones only)
   */
  public record Zone(
      ZoneType zone, long pagesFree, long boost, long min, long low, long high,
      OptionalLong promo, long spanned, long present, long managed, long cma,
      List<Long> protection, OptionalLong startPfn) {

    /** Makes the protection list immutable. */
    public Zone {
      protection = List.copyOf(protection);
    }

    /** populated_zone(): present_pages != 0. */
    public boolean populated() {
      return present != 0;
    }

    /**
     * The promo watermark, or, for kernels that do not print it, what __setup_per_zone_wmarks()
     * would have set: high + (high - low).
     */
    public long promoOrDerived() {
      return promo.orElse(high + (high - low));
    }
  }
}
