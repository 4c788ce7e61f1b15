package io.hintlab.guest.transport;

import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_DEFLATE_ON_OOM;
import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_FREE_PAGE_HINT;
import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_HINT_WAIT_ON_ACK;
import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_MUST_TELL_HOST;
import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_PAGE_POISON;
import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_PAGE_REPORTING;
import static io.hintlab.guest.transport.VirtioBalloon.VIRTIO_BALLOON_F_STATS_VQ;
import static io.hintlab.guest.transport.VirtioBalloon.bit;
import static io.hintlab.guest.transport.VirtioBalloon.has;
import static io.hintlab.guest.transport.VirtioBalloon.name;

import io.hintlab.guest.transport.DriverWishes.FreePageInit;
import java.util.ArrayList;
import java.util.List;

/**
 * The driver side of feature negotiation: from the device's offer and the guest's wishes, the
 * subset the driver accepts, with the Linux driver's rules (drivers/virtio/virtio_balloon.c
 * {@code features[]}, {@code virtballoon_validate()}, {@code virtballoon_probe()}; ~v6.1, the
 * shape current upstream still has) and the virtio spec's.
 *
 * <p>The rules, applied in this order:
 *
 * <ol>
 *   <li><b>Offered and in the feature table.</b> The driver accepts a bit only if the device
 *       offered it and the driver's feature table lists it (virtio core {@code virtio_dev_probe()}
 *       ANDs the two; spec 2.2.1: the driver MUST NOT accept a feature the device did not offer).
 *       Linux's table is MUST_TELL_HOST, STATS_VQ, DEFLATE_ON_OOM, FREE_PAGE_HINT, PAGE_POISON,
 *       REPORTING; here the guest's {@link DriverWishes} choose among the optional ones, and
 *       MUST_TELL_HOST is always in (spec 5.5.3.1: the driver SHOULD accept it if offered). Bits
 *       above {@link VirtioBalloon#MAX_KNOWN_FEATURE} are never accepted.
 *   <li><b>No PAGE_POISON when free pages hold nothing.</b> {@code virtballoon_validate()}: if
 *       neither {@code want_init_on_free()} nor {@code page_poisoning_enabled_static()}, clear
 *       PAGE_POISON, whether offered or not.
 *   <li><b>No PAGE_REPORTING when free pages hold a value the device cannot be told.</b> {@code
 *       virtballoon_validate()}, else-branch: free pages are initialized or poisoned but the device
 *       lacks PAGE_POISON, so clear REPORTING, because the host "could potentially change the
 *       contents of our free pages". The spec (5.5.3.1) says the same: a driver expecting pages to
 *       retain some initialized value MUST NOT accept PAGE_REPORTING unless it also negotiates
 *       PAGE_POISON. Free page hinting is kept: Alexander Duyck's 2020 patch that also cleared
 *       FREE_PAGE_HINT here was not merged (the device only uses hints when it asks for them).
 *   <li><b>HINT_WAIT_ON_ACK needs FREE_PAGE_HINT.</b> Spec 2.2.1: the driver MUST NOT accept a
 *       feature which requires another feature which was not accepted. (The bit itself is an
 *       RFC; mainline Linux never accepts it.)
 *   <li><b>poison_val.</b> {@code virtballoon_probe()}: with PAGE_POISON negotiated the driver
 *       writes poison_val = 0 under {@code init_on_free} ("representing general init"), else the
 *       poison pattern ({@code memset(&poison_val, PAGE_POISON, 4)}, 0xaaaaaaaa); without
 *       PAGE_POISON it writes nothing, so poison_val stays 0.
 *   <li><b>Reporting queue size.</b> {@code virtballoon_probe()}: with REPORTING negotiated and a
 *       reporting virtqueue smaller than PAGE_REPORTING_CAPACITY, probe fails with -ENOSPC (the
 *       whole device, not only reporting). Here the capacity is {@link
 *       DriverWishes#reportingCapacity()} and the failure a {@link TransportException} with
 *       reason NOT_NEGOTIATED.
 * </ol>
 *
 * <p>{@code virtballoon_validate()} also clears VIRTIO_F_ACCESS_PLATFORM (balloon pfns are guest
 * physical addresses, never translated by an IOMMU); the device protocol has no transport feature
 * bits, so rule 1 covers it.
 */
public final class FeatureNegotiation {
  private FeatureNegotiation() {}

  /**
   * Computes the accepted features and poison_val.
   *
   * @param offer what the device offers
   * @param wishes what the guest would like and how its free pages look
   * @return the accepted subset, poison_val, and a line per feature left out
   * @throws TransportException NOT_NEGOTIATED when the probe refuses the device (rule 6)
   */
  public static NegotiatedFeatures negotiate(DeviceOffer offer, DriverWishes wishes)
      throws TransportException {
    long offered = offer.features();
    long table = featureTable(wishes);
    List<String> dropped = new ArrayList<>();

    // Rule 1: offered AND listed in the driver's feature table (virtio_dev_probe()).
    long accepted = offered & table;
    long wantedNotOffered = table & ~offered & ~bit(VIRTIO_BALLOON_F_PAGE_POISON);
    for (int b = 0; b <= VirtioBalloon.MAX_KNOWN_FEATURE; b++) {
      if (has(wantedNotOffered, b) && b != VIRTIO_BALLOON_F_MUST_TELL_HOST) {
        dropped.add(name(b) + ": not offered by the device");
      }
    }

    // Rules 2 and 3: virtballoon_validate().
    if (wishes.freePageInit() == FreePageInit.NONE) {
      if (has(accepted, VIRTIO_BALLOON_F_PAGE_POISON)) {
        accepted &= ~bit(VIRTIO_BALLOON_F_PAGE_POISON);
        dropped.add("PAGE_POISON: free pages are neither poisoned nor initialized on free"
            + " (virtballoon_validate)");
      }
    } else if (!has(accepted, VIRTIO_BALLOON_F_PAGE_POISON)) {
      if (has(accepted, VIRTIO_BALLOON_F_PAGE_REPORTING)) {
        accepted &= ~bit(VIRTIO_BALLOON_F_PAGE_REPORTING);
        dropped.add("PAGE_REPORTING: free pages hold "
            + (wishes.freePageInit() == FreePageInit.INIT_ON_FREE ? "zeros (init_on_free)"
                : String.format("the poison 0x%08x", wishes.poisonPattern()))
            + " and the device does not offer PAGE_POISON, so reporting could change them"
            + " (virtballoon_validate; virtio spec 5.5.3.1)");
      }
    }

    // Rule 4: a feature that needs another one not accepted is not accepted (spec 2.2.1).
    if (has(accepted, VIRTIO_BALLOON_F_HINT_WAIT_ON_ACK)
        && !has(accepted, VIRTIO_BALLOON_F_FREE_PAGE_HINT)) {
      accepted &= ~bit(VIRTIO_BALLOON_F_HINT_WAIT_ON_ACK);
      dropped.add("HINT_WAIT_ON_ACK: needs FREE_PAGE_HINT, which was not accepted");
    }

    // Rule 5: poison_val as virtballoon_probe() writes it.
    int poisonVal = 0;
    if (has(accepted, VIRTIO_BALLOON_F_PAGE_POISON)) {
      poisonVal = wishes.freePageInit() == FreePageInit.INIT_ON_FREE ? 0 : wishes.poisonPattern();
    }

    // Rule 6: virtballoon_probe() refuses a reporting virtqueue smaller than its capacity.
    if (has(accepted, VIRTIO_BALLOON_F_PAGE_REPORTING)
        && offer.reportingCapacity() < wishes.reportingCapacity()) {
      throw TransportException.local(TransportException.Reason.NOT_NEGOTIATED, "Attach",
          "the device's reporting queue holds " + offer.reportingCapacity()
              + " entries, fewer than the driver's report capacity " + wishes.reportingCapacity()
              + "; virtballoon_probe() fails with -ENOSPC. Lower the report capacity or turn"
              + " reporting off");
    }
    return new NegotiatedFeatures(offered, accepted, poisonVal, dropped);
  }

  /**
   * The driver's feature table ({@code features[]} in virtio_balloon.c) for these wishes.
   * PAGE_POISON is always listed, as in Linux; {@code virtballoon_validate()} decides on it.
   *
   * @param wishes the guest's wishes
   * @return the table as a feature mask
   */
  static long featureTable(DriverWishes wishes) {
    long t = bit(VIRTIO_BALLOON_F_MUST_TELL_HOST) | bit(VIRTIO_BALLOON_F_PAGE_POISON);
    if (wishes.stats()) {
      t |= bit(VIRTIO_BALLOON_F_STATS_VQ);
    }
    if (wishes.deflateOnOom()) {
      t |= bit(VIRTIO_BALLOON_F_DEFLATE_ON_OOM);
    }
    if (wishes.hinting()) {
      t |= bit(VIRTIO_BALLOON_F_FREE_PAGE_HINT);
    }
    if (wishes.reporting()) {
      t |= bit(VIRTIO_BALLOON_F_PAGE_REPORTING);
    }
    if (wishes.hintWaitOnAck()) {
      t |= bit(VIRTIO_BALLOON_F_HINT_WAIT_ON_ACK);
    }
    return t;
  }
}
