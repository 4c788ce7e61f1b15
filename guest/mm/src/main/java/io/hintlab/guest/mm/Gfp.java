package io.hintlab.guest.mm;

/**
 * GFP flags the model honours (include/linux/gfp_types.h), and the two decoders the allocator
 * uses: {@link #zone} ({@code gfp_zone()}) and {@link #migratetype} ({@code gfp_migratetype()}).
 *
 * <p>Bit values are the model's own except where the kernel relies on an identity: {@code
 * __GFP_HIGH == ALLOC_MIN_RESERVE} and {@code __GFP_KSWAPD_RECLAIM == ALLOC_KSWAPD}
 * (mm/internal.h), which {@code gfp_to_alloc_flags()} uses to copy them without branches; and the
 * mobility bits, whose shift gives the migratetype directly (GFP_MOVABLE_SHIFT).
 */
public final class Gfp {
  public static final int __GFP_DMA = 0x01;
  public static final int __GFP_HIGHMEM = 0x02;
  public static final int __GFP_DMA32 = 0x04;
  /** Page is movable: gfp_migratetype() gives MIGRATE_MOVABLE. */
  public static final int __GFP_MOVABLE = 0x08;
  /** Page is reclaimable: gfp_migratetype() gives MIGRATE_RECLAIMABLE. */
  public static final int __GFP_RECLAIMABLE = 0x10;
  /** Access to the min reserve (equals ALLOC_MIN_RESERVE). */
  public static final int __GFP_HIGH = 0x20;
  public static final int __GFP_IO = 0x40;
  public static final int __GFP_FS = 0x80;
  public static final int __GFP_NOWARN = 0x100;
  public static final int __GFP_NORETRY = 0x200;
  public static final int __GFP_DIRECT_RECLAIM = 0x400;
  /** Wake kswapd (equals ALLOC_KSWAPD). */
  public static final int __GFP_KSWAPD_RECLAIM = 0x800;
  public static final int __GFP_NOMEMALLOC = 0x1000;
  public static final int __GFP_COMP = 0x2000;
  /** Try hard, but the allocation may fail: costly orders keep retrying in the slow path. */
  public static final int __GFP_RETRY_MAYFAIL = 0x4000;

  static final int GFP_MOVABLE_MASK = __GFP_RECLAIMABLE | __GFP_MOVABLE;
  static final int GFP_MOVABLE_SHIFT = 3;

  public static final int __GFP_RECLAIM = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM;
  public static final int GFP_ATOMIC = __GFP_HIGH | __GFP_KSWAPD_RECLAIM;
  public static final int GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
  public static final int GFP_NOWAIT = __GFP_KSWAPD_RECLAIM | __GFP_NOWARN;
  public static final int GFP_NOIO = __GFP_RECLAIM;
  public static final int GFP_USER = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
  public static final int GFP_DMA = __GFP_DMA;
  public static final int GFP_DMA32 = __GFP_DMA32;
  public static final int GFP_HIGHUSER = GFP_USER | __GFP_HIGHMEM;
  public static final int GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | __GFP_MOVABLE;
  /** Slab caches with SLAB_RECLAIM_ACCOUNT allocate with this. */
  public static final int GFP_KERNEL_RECLAIMABLE = GFP_KERNEL | __GFP_RECLAIMABLE;
  /** GFP_TRANSHUGE_LIGHT: THP allocations that do not reclaim. */
  public static final int GFP_TRANSHUGE_LIGHT =
      (GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOMEMALLOC | __GFP_NOWARN) & ~__GFP_RECLAIM;

  private Gfp() {}

  /**
   * gfp_migratetype(): MOVABLE for __GFP_MOVABLE, RECLAIMABLE for __GFP_RECLAIMABLE, else
   * UNMOVABLE. Both bits at once is a bug in the kernel (VM_WARN_ON) and rejected here.
   */
  public static int migratetype(int gfp) {
    if ((gfp & GFP_MOVABLE_MASK) == GFP_MOVABLE_MASK) {
      throw new IllegalArgumentException("gfp has both __GFP_MOVABLE and __GFP_RECLAIMABLE");
    }
    return (gfp & GFP_MOVABLE_MASK) >>> GFP_MOVABLE_SHIFT;
  }

  /**
   * gfp_zone(): the highest zone the allocation may use. __GFP_DMA gives DMA, __GFP_DMA32 gives
   * DMA32, __GFP_HIGHMEM with __GFP_MOVABLE gives MOVABLE, anything else NORMAL (x86-64 has no
   * HIGHMEM, so __GFP_HIGHMEM alone is NORMAL).
   */
  public static ZoneType zone(int gfp) {
    if ((gfp & __GFP_DMA) != 0) {
      if ((gfp & __GFP_DMA32) != 0) {
        throw new IllegalArgumentException("gfp has both __GFP_DMA and __GFP_DMA32");
      }
      return ZoneType.DMA;
    }
    if ((gfp & __GFP_DMA32) != 0) {
      return ZoneType.DMA32;
    }
    if ((gfp & (__GFP_HIGHMEM | __GFP_MOVABLE)) == (__GFP_HIGHMEM | __GFP_MOVABLE)) {
      return ZoneType.MOVABLE;
    }
    return ZoneType.NORMAL;
  }
}
