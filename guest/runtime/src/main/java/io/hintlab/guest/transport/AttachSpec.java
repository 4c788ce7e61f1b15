package io.hintlab.guest.transport;

/**
 * What the guest asks for when it attaches: its RAM, page size, largest order and feature wishes.
 *
 * @param guestName a name for people ({@code host status}); need not be unique
 * @param memoryBytes guest RAM in bytes, a positive multiple of {@code pageSize}
 * @param pageSize the guest page size in bytes, a power of two (4096 on x86-64)
 * @param maxOrder the largest order the guest reports or hints (its MAX_PAGE_ORDER), in [0, 63)
 * @param wishes the features the guest would like and how its free pages look
 */
public record AttachSpec(
    String guestName, long memoryBytes, int pageSize, int maxOrder, DriverWishes wishes) {

  /**
   * Checks the values.
   *
   * @throws IllegalArgumentException naming the bad value
   */
  public AttachSpec {
    if (guestName == null) {
      throw new IllegalArgumentException("guestName must not be null");
    }
    if (wishes == null) {
      throw new IllegalArgumentException("wishes must not be null");
    }
    if (pageSize <= 0 || Integer.bitCount(pageSize) != 1) {
      throw new IllegalArgumentException("pageSize must be a power of 2, was " + pageSize);
    }
    if (memoryBytes <= 0 || memoryBytes % pageSize != 0) {
      throw new IllegalArgumentException("memoryBytes must be a positive multiple of pageSize "
          + pageSize + ", was " + memoryBytes);
    }
    if (maxOrder < 0 || maxOrder >= 63) {
      throw new IllegalArgumentException("maxOrder must be in [0, 63), was " + maxOrder);
    }
  }
}
