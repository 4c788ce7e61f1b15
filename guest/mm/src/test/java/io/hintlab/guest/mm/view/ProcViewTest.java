package io.hintlab.guest.mm.view;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.hintlab.guest.mm.PageAllocator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link ProcView}: the names the CLI's {@code --show} accepts. */
class ProcViewTest {

  @Test
  void shouldFindEveryViewByItsName() {
    for (ProcView v : ProcView.values()) {
      assertEquals(v, ProcView.byName(v.viewName()));
    }
    assertEquals("buddyinfo, pagetypeinfo, zoneinfo, vmstat, extfrag, unusable",
        ProcView.validNames());
  }

  @Test
  void shouldNameTheUnknownViewAndListTheValidOnesWhenTheNameIsUnknown() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ProcView.byName("meminfo"));
    assertEquals("unknown view 'meminfo'; valid views are: buddyinfo, pagetypeinfo, zoneinfo,"
        + " vmstat, extfrag, unusable", e.getMessage());
  }

  @Test
  void shouldParseACommaSeparatedListInOrderWhenNamesAreValid() {
    assertEquals(List.of(ProcView.ZONEINFO, ProcView.BUDDYINFO),
        ProcView.parseList("zoneinfo, buddyinfo"));
  }

  @Test
  void shouldRejectAnEmptyNameOrAnUnknownOneWhenParsingAList() {
    IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
        () -> ProcView.parseList("buddyinfo,,zoneinfo"));
    assertEquals("empty view name in 'buddyinfo,,zoneinfo'; valid views are: buddyinfo,"
        + " pagetypeinfo, zoneinfo, vmstat, extfrag, unusable", empty.getMessage());
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
        () -> ProcView.parseList("buddyinfo,BuddyInfo"));
    assertEquals("unknown view 'BuddyInfo'; valid views are: buddyinfo, pagetypeinfo,"
        + " zoneinfo, vmstat, extfrag, unusable", unknown.getMessage());
  }

  @Test
  void shouldRenderWithTheViewsOwnClassAndNameTheKernelFile() {
    PageAllocator a = Guests.boot64m();
    assertEquals(BuddyInfo.render(a), ProcView.BUDDYINFO.render(a));
    assertEquals(PageTypeInfo.render(a), ProcView.PAGETYPEINFO.render(a));
    assertEquals(ZoneInfo.render(a), ProcView.ZONEINFO.render(a));
    assertEquals(VmStat.render(a), ProcView.VMSTAT.render(a));
    assertEquals(ExtFrag.renderExtfragIndex(a), ProcView.EXTFRAG.render(a));
    assertEquals(ExtFrag.renderUnusableIndex(a), ProcView.UNUSABLE.render(a));
    assertEquals("/sys/kernel/debug/extfrag/unusable_index", ProcView.UNUSABLE.kernelPath());
    assertEquals("/proc/zoneinfo", ProcView.ZONEINFO.kernelPath());
  }
}
