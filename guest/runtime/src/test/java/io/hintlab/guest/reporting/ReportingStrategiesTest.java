package io.hintlab.guest.reporting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.hintlab.guest.mm.Geometry;
import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The registry by name, and how page-reporting resolves its order against the geometry. */
class ReportingStrategiesTest {
  private static final PageAllocator X86 = new PageAllocator(MmConfig.forMemory(64L << 20));
  private static final String VALID =
      "page-reporting, isolate-report, bitmap-hinting, hint-alloc-hold, free-list-walk";

  @Test
  void shouldListTheRegisteredNamesWithPageReportingAsDefault() {
    assertEquals(List.of(VALID.split(", ")), ReportingStrategies.names());
    for (String name : ReportingStrategies.names()) {
      assertEquals(name, ReportingStrategies.create(name, X86, ReportingOptions.defaults()).name());
    }
    assertEquals("page-reporting", ReportingStrategies.DEFAULT);
  }

  @Test
  void shouldGiveHintAllocHoldNoDelayAndTheReportingStrategiesTwoSeconds() {
    // free page hinting queue_work()s its pass; page reporting schedule_delayed_work()s it
    for (String name : ReportingStrategies.names()) {
      Duration expected =
          name.equals("hint-alloc-hold") ? Duration.ZERO : Duration.ofSeconds(2);
      assertEquals(expected, ReportingStrategies.defaultDelay(name), name);
    }
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> ReportingStrategies.defaultDelay("balloon"));
    assertEquals("unknown reporting strategy 'balloon'; valid names: " + VALID, e.getMessage());
  }

  @Test
  void shouldCreateAStrategyByName() {
    ReportingStrategy s =
        ReportingStrategies.create("page-reporting", X86, ReportingOptions.defaults());
    PageReportingStrategy p = assertInstanceOf(PageReportingStrategy.class, s);
    assertEquals("page-reporting", p.name());
    assertEquals(9, p.order(), "page_reporting_order defaults to pageblock_order");
    assertEquals(32, p.capacity());
    assertEquals(16, p.budgetDivisor());
  }

  @Test
  void shouldNameTheValidStrategiesForAnUnknownName() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ReportingStrategies.create("balloon", X86, ReportingOptions.defaults()));
    assertEquals("unknown reporting strategy 'balloon'; valid names: " + VALID, e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ReportingStrategies.create(null, X86, ReportingOptions.defaults()));
    assertEquals("unknown reporting strategy 'null'; valid names: " + VALID, e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ReportingStrategies.create("page-reporting", X86, null));
    assertEquals("allocator and options must not be null", e.getMessage());
  }

  @Test
  void shouldRejectAnOrderAboveMaxPageOrder() {
    // page_reporting_order: param_set_uint_minmax(0, MAX_PAGE_ORDER)
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                ReportingStrategies.create(
                    "page-reporting", X86, ReportingOptions.defaults().withOrder(11)));
    assertEquals("order must be in [0, 10], got 11", e.getMessage());
    PageReportingStrategy p =
        new PageReportingStrategy(X86, ReportingOptions.defaults().withOrder(0));
    assertEquals(0, p.order(), "order 0 is legal (the 2026 'allow zero' series)");
  }

  @Test
  void shouldUseThePageblockOrderOfAnArm64KernelWith64KPages() {
    // pageblock_order 13 there (512 MiB), which is why virtio_balloon sets order 5 for it
    Geometry arm64k = new Geometry(16, 14, 13);
    PageAllocator a =
        new PageAllocator(MmConfig.builder().geometry(arm64k).memory(2L << 30).build());
    assertEquals(13, new PageReportingStrategy(a, ReportingOptions.defaults()).order());
    assertEquals(5, new PageReportingStrategy(a, ReportingOptions.defaults().withOrder(5)).order());
  }

  @Test
  void shouldComputeTheBudgetAsDivRoundUp() {
    // budget = DIV_ROUND_UP(area->nr_free, PAGE_REPORTING_CAPACITY * 16)
    PageReportingStrategy p = new PageReportingStrategy(X86, ReportingOptions.defaults());
    assertEquals(0, p.budget(0));
    assertEquals(1, p.budget(1));
    assertEquals(1, p.budget(512));
    assertEquals(2, p.budget(513));
    PageReportingStrategy none =
        new PageReportingStrategy(X86, ReportingOptions.defaults().withBudgetDivisor(0));
    assertEquals(Long.MAX_VALUE, none.budget(1_000_000));
  }
}
