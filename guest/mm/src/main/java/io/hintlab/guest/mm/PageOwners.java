package io.hintlab.guest.mm;

/**
 * The owners of movable pages: a small registry of {@link MovableOps} (an owner class each) and
 * the encoding of a page's owner word, {@code class << 26 | handle}. Handle meanings are the
 * owner's own (a slot index in a workload's table, a balloon page number...). Owner 0 is "no
 * owner": such a page is migrated without telling anyone, like an LRU page nobody maps.
 *
 * <p><b>Note:</b> classes are registered before allocation starts; lookups are lock-free.
 */
public final class PageOwners {
  /** Bits of the handle in an owner word: 2^26 = 64 Mi handles, a 256 GiB guest's pages. */
  public static final int HANDLE_BITS = 26;
  /** Largest owner class id (6 bits; 0 is reserved for "none"). */
  public static final int MAX_CLASSES = (1 << (32 - HANDLE_BITS)) - 1;
  static final int HANDLE_MASK = (1 << HANDLE_BITS) - 1;

  private final MovableOps[] ops = new MovableOps[MAX_CLASSES + 1];
  private final boolean[] nonLru = new boolean[MAX_CLASSES + 1];
  private int nextClass = 1;

  /**
   * Registers an owner class.
   *
   * @param movableOps its callbacks
   * @param nonLruMovable true for non-LRU movable pages (balloon pages: PageOffline with movable
   *     ops), false for LRU pages of a workload
   * @return the class id to build owner words with {@link #owner}
   */
  public synchronized int register(MovableOps movableOps, boolean nonLruMovable) {
    if (movableOps == null) {
      throw new IllegalArgumentException("movableOps must not be null");
    }
    if (nextClass > MAX_CLASSES) {
      throw new IllegalStateException("at most " + MAX_CLASSES + " owner classes");
    }
    ops[nextClass] = movableOps;
    nonLru[nextClass] = nonLruMovable;
    return nextClass++;
  }

  /**
   * The owner word of handle in class.
   *
   * @throws IllegalArgumentException if class or handle is out of range
   */
  public static int owner(int ownerClass, int handle) {
    if (ownerClass < 1 || ownerClass > MAX_CLASSES) {
      throw new IllegalArgumentException(
          "owner class must be in [1, " + MAX_CLASSES + "], got " + ownerClass);
    }
    if (handle < 0 || handle > HANDLE_MASK) {
      throw new IllegalArgumentException(
          "owner handle must be in [0, " + HANDLE_MASK + "], got " + handle);
    }
    return (ownerClass << HANDLE_BITS) | handle;
  }

  /** The class id of an owner word. */
  public static int classOf(int owner) {
    return owner >>> HANDLE_BITS;
  }

  /** The handle of an owner word. */
  public static int handleOf(int owner) {
    return owner & HANDLE_MASK;
  }

  /** The callbacks of an owner word's class, or null for owner 0. */
  MovableOps ops(int owner) {
    return ops[owner >>> HANDLE_BITS];
  }

  /** Whether pages of this owner are non-LRU movable (movable_ops) pages. */
  boolean isNonLru(int owner) {
    return nonLru[owner >>> HANDLE_BITS];
  }

  /** Validates that an owner word names a registered class (or is 0). */
  void checkRegistered(int owner) {
    int c = owner >>> HANDLE_BITS;
    if (owner != 0 && (c == 0 || ops[c] == null)) {
      throw new IllegalArgumentException("owner 0x" + Integer.toHexString(owner)
          + " names an unregistered owner class " + c);
    }
  }
}
