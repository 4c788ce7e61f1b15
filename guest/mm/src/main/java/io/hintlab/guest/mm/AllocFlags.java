package io.hintlab.guest.mm;

/** ALLOC_* flags of the allocator's internal calls (mm/internal.h). */
final class AllocFlags {
  static final int ALLOC_WMARK_MIN = Zone.WMARK_MIN;
  static final int ALLOC_WMARK_LOW = Zone.WMARK_LOW;
  static final int ALLOC_WMARK_HIGH = Zone.WMARK_HIGH;
  static final int ALLOC_NO_WATERMARKS = 0x04;
  static final int ALLOC_WMARK_MASK = ALLOC_NO_WATERMARKS - 1;
  static final int ALLOC_OOM = 0x08;
  static final int ALLOC_NON_BLOCK = 0x10;
  /** Equals __GFP_HIGH. */
  static final int ALLOC_MIN_RESERVE = 0x20;
  static final int ALLOC_CPUSET = 0x40;
  static final int ALLOC_CMA = 0x80;
  static final int ALLOC_NOFRAGMENT = 0x100;
  static final int ALLOC_HIGHATOMIC = 0x200;
  /** Equals __GFP_KSWAPD_RECLAIM. */
  static final int ALLOC_KSWAPD = 0x800;
  /** Flags that give access to reserves below the min watermark. */
  static final int ALLOC_RESERVES = ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_HIGHATOMIC | ALLOC_OOM;

  private AllocFlags() {}
}
