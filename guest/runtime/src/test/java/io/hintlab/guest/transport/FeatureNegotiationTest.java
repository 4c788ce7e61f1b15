package io.hintlab.guest.transport;

import static io.hintlab.guest.transport.VirtioBalloon.PAGE_POISON_VAL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import io.hintlab.guest.transport.TransportException.Reason;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The driver's negotiation rules, one row per rule of drivers/virtio/virtio_balloon.c
 * ({@code features[]}, {@code virtballoon_validate()}, {@code virtballoon_probe()}) and the virtio
 * spec (2.2.1 feature bits, 5.5.3.1 balloon feature bit requirements).
 */
class FeatureNegotiationTest {
  private static final long MUST_TELL_HOST = 1L << 0;
  private static final long STATS_VQ = 1L << 1;
  private static final long DEFLATE_ON_OOM = 1L << 2;
  private static final long FREE_PAGE_HINT = 1L << 3;
  private static final long PAGE_POISON = 1L << 4;
  private static final long PAGE_REPORTING = 1L << 5;
  private static final long HINT_WAIT_ON_ACK = 1L << 6;
  private static final long QEMU = MUST_TELL_HOST | STATS_VQ | DEFLATE_ON_OOM | FREE_PAGE_HINT
      | PAGE_POISON | PAGE_REPORTING;
  private static final long NO_POISON = QEMU & ~PAGE_POISON;
  private static final DriverWishes LINUX = DriverWishes.linuxDefaults();
  private static final DriverWishes NOTHING = LINUX.withReporting(false).withHinting(false)
      .withStats(false).withDeflateOnOom(false);

  static Stream<Arguments> rules() {
    return Stream.of(
        argumentSet("rule 1: offered AND feature table; PAGE_POISON left out by rule 2"
                + " (virtio_dev_probe, virtballoon_validate)",
            QEMU, LINUX, QEMU & ~PAGE_POISON, 0, "PAGE_POISON"),
        argumentSet("rule 1: a bit the device did not offer is never accepted (spec 2.2.1)",
            STATS_VQ | PAGE_REPORTING, LINUX, STATS_VQ | PAGE_REPORTING, 0,
            "FREE_PAGE_HINT: not offered"),
        argumentSet("rule 1: an offered feature the guest does not want stays out (features[])",
            QEMU, LINUX.withHinting(false).withStats(false),
            MUST_TELL_HOST | DEFLATE_ON_OOM | PAGE_REPORTING, 0, "PAGE_POISON"),
        argumentSet("rule 1: unknown offered bits (7, 40) are never accepted",
            QEMU | 1L << 7 | 1L << 40, LINUX, QEMU & ~PAGE_POISON, 0, "PAGE_POISON"),
        argumentSet("rule 1: MUST_TELL_HOST is accepted whenever offered (features[];"
                + " spec 5.5.3.1: SHOULD accept)",
            MUST_TELL_HOST, NOTHING, MUST_TELL_HOST, 0, ""),
        argumentSet("rule 2: free pages hold nothing, so no PAGE_POISON even if offered"
                + " (virtballoon_validate: !want_init_on_free() && !page_poisoning_enabled)",
            PAGE_POISON | PAGE_REPORTING, LINUX, PAGE_REPORTING, 0,
            "PAGE_POISON: free pages are neither poisoned nor initialized"),
        argumentSet("rule 3: poisoned free pages and no PAGE_POISON offered: no REPORTING"
                + " (virtballoon_validate else-branch; spec 5.5.3.1 MUST NOT)",
            NO_POISON, LINUX.withPoison(PAGE_POISON_VAL),
            MUST_TELL_HOST | STATS_VQ | DEFLATE_ON_OOM | FREE_PAGE_HINT, 0,
            "PAGE_REPORTING: free pages hold the poison 0xaaaaaaaa"),
        argumentSet("rule 3: init_on_free and no PAGE_POISON offered: no REPORTING"
                + " (virtballoon_validate: want_init_on_free())",
            NO_POISON, LINUX.withInitOnFree(),
            MUST_TELL_HOST | STATS_VQ | DEFLATE_ON_OOM | FREE_PAGE_HINT, 0,
            "PAGE_REPORTING: free pages hold zeros (init_on_free)"),
        argumentSet("rule 3: hinting is kept (Duyck's 2020 patch clearing FREE_PAGE_HINT too"
                + " was not merged)",
            FREE_PAGE_HINT | PAGE_REPORTING, LINUX.withPoison(PAGE_POISON_VAL), FREE_PAGE_HINT,
            0, "PAGE_REPORTING"),
        argumentSet("rules 3 and 5: poisoned pages with PAGE_POISON offered keep REPORTING;"
                + " poison_val 0xaaaaaaaa (virtballoon_probe: memset(&poison_val, PAGE_POISON))",
            QEMU, LINUX.withPoison(PAGE_POISON_VAL), QEMU, PAGE_POISON_VAL, ""),
        argumentSet("rule 5: init_on_free with PAGE_POISON writes poison_val 0"
                + " (virtballoon_probe: 0 'representing general init')",
            QEMU, LINUX.withInitOnFree(), QEMU, 0, ""),
        argumentSet("rule 5: the driver writes its own poison pattern",
            QEMU, LINUX.withPoison(0x5a5a5a5a), QEMU, 0x5a5a5a5a, ""),
        argumentSet("rule 5: without PAGE_POISON poison_val stays 0 (probe writes nothing)",
            NO_POISON, LINUX.withPoison(PAGE_POISON_VAL).withReporting(false),
            MUST_TELL_HOST | STATS_VQ | DEFLATE_ON_OOM | FREE_PAGE_HINT, 0, ""),
        argumentSet("rule 4: HINT_WAIT_ON_ACK needs FREE_PAGE_HINT (spec 2.2.1: not a feature"
                + " that requires one not accepted)",
            QEMU | HINT_WAIT_ON_ACK, LINUX.withHinting(false).withHintWaitOnAck(true),
            MUST_TELL_HOST | STATS_VQ | DEFLATE_ON_OOM | PAGE_REPORTING, 0,
            "HINT_WAIT_ON_ACK: needs FREE_PAGE_HINT"),
        argumentSet("rule 4: HINT_WAIT_ON_ACK with FREE_PAGE_HINT is accepted",
            QEMU | HINT_WAIT_ON_ACK, LINUX.withHintWaitOnAck(true),
            (QEMU | HINT_WAIT_ON_ACK) & ~PAGE_POISON, 0, "PAGE_POISON"),
        argumentSet("rule 1: mainline Linux never accepts HINT_WAIT_ON_ACK (not in features[])",
            QEMU | HINT_WAIT_ON_ACK, LINUX, QEMU & ~PAGE_POISON, 0, "PAGE_POISON"));
  }

  @ParameterizedTest
  @MethodSource("rules")
  void shouldAcceptWhatTheLinuxDriverAccepts(
      long offered, DriverWishes wishes, long accepted, int poisonVal, String droppedNote)
      throws TransportException {
    NegotiatedFeatures n = FeatureNegotiation.negotiate(offer(offered, 32), wishes);
    assertEquals(VirtioBalloon.names(accepted), VirtioBalloon.names(n.accepted()), n.toString());
    assertEquals(poisonVal, n.poisonVal(), n.toString());
    assertEquals(offered, n.offered());
    if (droppedNote.isEmpty()) {
      assertTrue(n.dropped().stream().noneMatch(d -> d.startsWith("PAGE_REPORTING")),
          n.toString());
    } else {
      assertTrue(n.dropped().stream().anyMatch(d -> d.startsWith(droppedNote)), n.toString());
    }
  }

  @Test
  void shouldFailTheProbeWhenTheReportingQueueIsSmallerThanPageReportingCapacity() {
    // virtballoon_probe(): capacity < PAGE_REPORTING_CAPACITY -> -ENOSPC, the whole device fails.
    TransportException e = assertThrows(TransportException.class,
        () -> FeatureNegotiation.negotiate(offer(QEMU, 16), LINUX));
    assertEquals(Reason.NOT_NEGOTIATED, e.reason());
    assertTrue(e.getMessage().contains("holds 16 entries"), e.getMessage());
    assertTrue(e.getMessage().contains("-ENOSPC"), e.getMessage());
    assertTrue(e.status().isEmpty(), "decided locally, no call");
  }

  @Test
  void shouldNotCheckTheReportingQueueWhenReportingIsNotNegotiated() throws TransportException {
    assertFalse(FeatureNegotiation.negotiate(offer(QEMU, 16), LINUX.withReporting(false))
        .has(VirtioBalloon.VIRTIO_BALLOON_F_PAGE_REPORTING));
    // Rule 3 dropped REPORTING before the probe looks at the queue.
    assertFalse(FeatureNegotiation.negotiate(offer(NO_POISON, 16),
        LINUX.withPoison(PAGE_POISON_VAL)).has(VirtioBalloon.VIRTIO_BALLOON_F_PAGE_REPORTING));
  }

  @Test
  void shouldAcceptASmallerQueueWhenTheDriverFillsFewerEntries() throws TransportException {
    assertTrue(FeatureNegotiation.negotiate(offer(QEMU, 16), LINUX.withReportingCapacity(16))
        .has(VirtioBalloon.VIRTIO_BALLOON_F_PAGE_REPORTING));
    assertTrue(FeatureNegotiation.negotiate(offer(QEMU, 1024), LINUX)
        .has(VirtioBalloon.VIRTIO_BALLOON_F_PAGE_REPORTING));
  }

  @Test
  void shouldListTheFeatureTableLikeLinux() {
    // features[] = MUST_TELL_HOST, STATS_VQ, DEFLATE_ON_OOM, FREE_PAGE_HINT, PAGE_POISON, REPORTING
    assertEquals(QEMU, FeatureNegotiation.featureTable(LINUX));
    assertEquals(MUST_TELL_HOST | PAGE_POISON, FeatureNegotiation.featureTable(NOTHING));
  }

  @Test
  void shouldNameFeaturesForMessages() {
    assertEquals("MUST_TELL_HOST|STATS_VQ|DEFLATE_ON_OOM|FREE_PAGE_HINT|PAGE_POISON"
        + "|PAGE_REPORTING", VirtioBalloon.names(QEMU));
    assertEquals("none", VirtioBalloon.names(0));
    assertEquals("HINT_WAIT_ON_ACK|bit 9", VirtioBalloon.names(HINT_WAIT_ON_ACK | 1L << 9));
    assertThrows(IllegalArgumentException.class, () -> VirtioBalloon.bit(64));
  }

  @Test
  void shouldRefuseAnAcceptedSetThatWasNotOffered() {
    assertThrows(IllegalArgumentException.class,
        () -> new NegotiatedFeatures(STATS_VQ, STATS_VQ | PAGE_REPORTING, 0, List.of()));
  }

  private static DeviceOffer offer(long features, int capacity) {
    return new DeviceOffer(features, capacity, 4096, "discard", 1L << 30);
  }
}
