package io.hintlab.host.device;

/** The device's counters; {@link #wireName()} is the name in GetMetrics and Prometheus. */
public enum Counter {
  /** Report calls accepted. */
  REPORTS("reports"),
  /** Nanoseconds spent handling accepted reports (validation to ack), for reclaim latency. */
  REPORT_HANDLING_NS("report_handling_ns"),
  /** Ranges in accepted reports. */
  REPORTED_RANGES("reported_ranges"),
  /** Bytes in accepted reports. */
  REPORTED_BYTES("reported_bytes"),
  /** Pages whose backing a report freed. */
  REPORT_DISCARDED_PAGES("report_discarded_pages"),
  /** Reported pages that were already discarded. */
  ALREADY_DISCARDED_PAGES("already_discarded_pages"),
  /** Reported ranges skipped: misaligned to the backing page or poison_val != 0. */
  IGNORED_RANGES("ignored_ranges"),
  /** Ranges whose poison was written instead of a discard. */
  POISON_WRITTEN_RANGES("poison_written_ranges"),
  /** Discards the backing refused. */
  DISCARD_FAILURES("discard_failures"),
  /** Hint calls carrying ranges. */
  HINTS("hints"),
  /** Hinted ranges applied. */
  HINTED_RANGES("hinted_ranges"),
  /** Hinted pages applied. */
  HINTED_PAGES("hinted_pages"),
  /** Pages a hint discarded. */
  HINT_DISCARDED_PAGES("hint_discarded_pages"),
  /** Hinted pages skipped because they were written after the hint (discard-hints-paused). */
  HINT_SKIPPED_DIRTY_PAGES("hint_skipped_dirty_pages"),
  /** Hinted ranges ignored: stale id or not started. */
  STALE_HINTS("stale_hints"),
  /** Start/stop outbufs ignored as stale. */
  STALE_CMD_IDS("stale_cmd_ids"),
  /** Hinting rounds requested. */
  HINT_ROUNDS("hint_rounds"),
  /** Pages inflated. */
  INFLATED_PAGES("inflated_pages"),
  /** Pages deflated. */
  DEFLATED_PAGES("deflated_pages"),
  /** Stats buffers received. */
  STATS_UPDATES("stats_updates"),
  /** Pauses answered by the guest. */
  PAUSES("pauses"),
  /** Calls refused with an error status. */
  REJECTED_CALLS("rejected_calls");

  private final String wireName;

  Counter(String wireName) {
    this.wireName = wireName;
  }

  /** snake_case name. */
  public String wireName() {
    return wireName;
  }
}
