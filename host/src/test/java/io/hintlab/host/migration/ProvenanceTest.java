package io.hintlab.host.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ProvenanceTest {

  @Test
  void hintAfterTheLastWriteWithoutResendIsBlamedOnTheHint() {
    Provenance p = new Provenance(4);
    p.sent(1, 0);
    p.dirtied(1, 1); // written during round 0, seen at the sync starting round 1
    p.hinted(1, 1, 0x80000001, false);
    assertEquals(CorruptionCause.HINT_AFTER_LAST_WRITE, p.attribute(1));
  }

  @Test
  void staleIdIsReportedBeforeTheGenericHintCause() {
    Provenance p = new Provenance(4);
    p.dirtied(2, 1);
    p.hinted(2, 2, 0x80000000, true);
    assertEquals(CorruptionCause.STALE_ID_ACCEPTED, p.attribute(2));
    assertEquals(0x80000000, p.lastHintId(2));
  }

  @Test
  void pageNeverSentWithoutHintIsNeverSent() {
    Provenance p = new Provenance(4);
    assertEquals(CorruptionCause.NEVER_SENT, p.attribute(3));
  }

  @Test
  void resendAfterTheHintClearsTheHintFromBlame() {
    Provenance p = new Provenance(4);
    p.hinted(0, 0, 0x80000000, false);
    p.dirtied(0, 1);
    p.sent(0, 2);
    assertEquals(CorruptionCause.UNEXPLAINED, p.attribute(0));
    assertEquals(2, p.lastSentRound(0));
  }

  @Test
  void rejectsNonPositiveSize() {
    assertThrows(IllegalArgumentException.class, () -> new Provenance(0));
  }
}
