package io.hintlab.guest.transport;

/**
 * What the guest's driver would like to use and how its free pages look: the inputs, besides the
 * device's offer, of {@link FeatureNegotiation}. In Linux these come from the driver's feature
 * table and the kernel's command line ({@code init_on_free=1}, {@code page_poison=1}).
 *
 * <p>MUST_TELL_HOST is not a wish: the driver accepts it whenever the device offers it (it is in
 * Linux's feature table, and the spec says the driver SHOULD accept it).
 *
 * @param reporting accept PAGE_REPORTING (free page reporting) if the rules allow
 * @param hinting accept FREE_PAGE_HINT (free page hinting)
 * @param stats accept STATS_VQ (the stats queue)
 * @param deflateOnOom accept DEFLATE_ON_OOM (deflate under memory pressure)
 * @param hintWaitOnAck accept the proposed HINT_WAIT_ON_ACK (mainline Linux does not know it)
 * @param freePageInit what freed pages hold
 * @param poisonPattern the 32-bit pattern poisoned free pages hold (used only with {@link
 *     FreePageInit#POISON}; Linux: {@link VirtioBalloon#PAGE_POISON_VAL})
 * @param reportingCapacity the entries per report the driver fills; a reporting queue smaller
 *     than this fails the probe (Linux: {@link VirtioBalloon#PAGE_REPORTING_CAPACITY})
 */
public record DriverWishes(
    boolean reporting,
    boolean hinting,
    boolean stats,
    boolean deflateOnOom,
    boolean hintWaitOnAck,
    FreePageInit freePageInit,
    int poisonPattern,
    int reportingCapacity) {

  /** What freed pages hold, which decides PAGE_POISON and poison_val. */
  public enum FreePageInit {
    /** Nothing: neither init_on_free nor page poisoning (the usual kernel). */
    NONE,
    /** {@code init_on_free=1}: freed pages are zeroed; poison_val is 0 (want_init_on_free()). */
    INIT_ON_FREE,
    /** {@code page_poison=1}: freed pages are filled with the poison pattern. */
    POISON
  }

  /**
   * Checks the values.
   *
   * @throws IllegalArgumentException if freePageInit is null or reportingCapacity is below 1
   */
  public DriverWishes {
    if (freePageInit == null) {
      throw new IllegalArgumentException("freePageInit must not be null");
    }
    if (reportingCapacity < 1) {
      throw new IllegalArgumentException(
          "reportingCapacity must be at least 1, was " + reportingCapacity);
    }
  }

  /**
   * What a mainline Linux guest asks for: every feature of its table (reporting, hinting, stats,
   * deflate-on-oom), no HINT_WAIT_ON_ACK, free pages not initialized, capacity 32.
   *
   * @return the wishes
   */
  public static DriverWishes linuxDefaults() {
    return new DriverWishes(true, true, true, true, false, FreePageInit.NONE,
        VirtioBalloon.PAGE_POISON_VAL, VirtioBalloon.PAGE_REPORTING_CAPACITY);
  }

  /**
   * A copy with free page reporting wanted or not.
   *
   * @param on whether to accept PAGE_REPORTING
   * @return the copy
   */
  public DriverWishes withReporting(boolean on) {
    return new DriverWishes(on, hinting, stats, deflateOnOom, hintWaitOnAck, freePageInit,
        poisonPattern, reportingCapacity);
  }

  /**
   * A copy with free page hinting wanted or not.
   *
   * @param on whether to accept FREE_PAGE_HINT
   * @return the copy
   */
  public DriverWishes withHinting(boolean on) {
    return new DriverWishes(reporting, on, stats, deflateOnOom, hintWaitOnAck, freePageInit,
        poisonPattern, reportingCapacity);
  }

  /**
   * A copy with the stats queue wanted or not.
   *
   * @param on whether to accept STATS_VQ
   * @return the copy
   */
  public DriverWishes withStats(boolean on) {
    return new DriverWishes(reporting, hinting, on, deflateOnOom, hintWaitOnAck, freePageInit,
        poisonPattern, reportingCapacity);
  }

  /**
   * A copy with deflate-on-oom wanted or not.
   *
   * @param on whether to accept DEFLATE_ON_OOM
   * @return the copy
   */
  public DriverWishes withDeflateOnOom(boolean on) {
    return new DriverWishes(reporting, hinting, stats, on, hintWaitOnAck, freePageInit,
        poisonPattern, reportingCapacity);
  }

  /**
   * A copy with the proposed HINT_WAIT_ON_ACK wanted or not.
   *
   * @param on whether to accept HINT_WAIT_ON_ACK
   * @return the copy
   */
  public DriverWishes withHintWaitOnAck(boolean on) {
    return new DriverWishes(reporting, hinting, stats, deflateOnOom, on, freePageInit,
        poisonPattern, reportingCapacity);
  }

  /**
   * A copy whose free pages are zeroed on free ({@code init_on_free=1}).
   *
   * @return the copy
   */
  public DriverWishes withInitOnFree() {
    return new DriverWishes(reporting, hinting, stats, deflateOnOom, hintWaitOnAck,
        FreePageInit.INIT_ON_FREE, poisonPattern, reportingCapacity);
  }

  /**
   * A copy whose free pages are poisoned with {@code pattern} ({@code page_poison=1}).
   *
   * @param pattern the 32-bit value poisoned pages hold (Linux: 0xaaaaaaaa)
   * @return the copy
   */
  public DriverWishes withPoison(int pattern) {
    return new DriverWishes(reporting, hinting, stats, deflateOnOom, hintWaitOnAck,
        FreePageInit.POISON, pattern, reportingCapacity);
  }

  /**
   * A copy whose free pages hold nothing in particular.
   *
   * @return the copy
   */
  public DriverWishes withoutFreePageInit() {
    return new DriverWishes(reporting, hinting, stats, deflateOnOom, hintWaitOnAck,
        FreePageInit.NONE, poisonPattern, reportingCapacity);
  }

  /**
   * A copy with another report capacity.
   *
   * @param capacity entries per report the driver fills, at least 1
   * @return the copy
   */
  public DriverWishes withReportingCapacity(int capacity) {
    return new DriverWishes(reporting, hinting, stats, deflateOnOom, hintWaitOnAck,
        freePageInit, poisonPattern, capacity);
  }
}
