package io.hintlab.guest.transport;

import java.util.List;

/**
 * The outcome of feature negotiation: what the device offered, what the driver accepted, the
 * poison_val it writes, and why each feature the guest could have used was left out.
 *
 * @param offered the device's feature bits
 * @param accepted the driver's feature bits, a subset of {@code offered}
 * @param poisonVal the config-space poison_val the driver writes (0 unless PAGE_POISON was
 *     accepted and free pages are poisoned)
 * @param dropped one line per feature the rules left out, naming the rule (for logs)
 */
public record NegotiatedFeatures(long offered, long accepted, int poisonVal, List<String> dropped) {

  /**
   * Checks the values and copies the list.
   *
   * @throws IllegalArgumentException if {@code accepted} is not a subset of {@code offered}
   */
  public NegotiatedFeatures {
    if ((accepted & ~offered) != 0) {
      throw new IllegalArgumentException("accepted features "
          + VirtioBalloon.names(accepted & ~offered) + " were not offered");
    }
    dropped = List.copyOf(dropped);
  }

  /**
   * Whether one feature was accepted.
   *
   * @param bit a feature bit (see {@link VirtioBalloon})
   * @return true if negotiated
   */
  public boolean has(int bit) {
    return VirtioBalloon.has(accepted, bit);
  }

  @Override
  public String toString() {
    return "negotiated " + VirtioBalloon.names(accepted) + " of " + VirtioBalloon.names(offered)
        + (has(VirtioBalloon.VIRTIO_BALLOON_F_PAGE_POISON)
            ? String.format(", poison_val 0x%08x", poisonVal) : "")
        + (dropped.isEmpty() ? "" : "; " + String.join("; ", dropped));
  }
}
