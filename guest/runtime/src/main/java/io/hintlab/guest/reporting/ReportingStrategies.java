package io.hintlab.guest.reporting;

import io.hintlab.guest.mm.PageAllocator;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The registry of reporting strategies by name (DESIGN section 4).
 *
 * <table>
 *   <caption>Strategies</caption>
 *   <tr><th>name</th><th>models</th></tr>
 *   <tr><td>{@value PageReportingStrategy#NAME}</td>
 *       <td>Linux &gt;= 5.10 free page reporting (mm/page_reporting.c), the default</td></tr>
 *   <tr><td>{@value IsolateReportStrategy#NAME}</td>
 *       <td>reporting through page isolation (David Hildenbrand, lkml, 2019-11): candidate
 *       pageblocks in a per-zone bitmap, lockless free check, start_isolate_page_range(),
 *       test_pages_isolated(), report, undo; -EBUSY with other isolation users counted</td></tr>
 *   <tr><td>{@value BitmapHintingStrategy#NAME}</td>
 *       <td>per-zone bitmap page hinting (Nitesh Narayan Lal, v10, 2019): bits set on free at
 *       MAX_ORDER-2, batches of 16 pulled out of the buddy and returned after the ack</td></tr>
 *   <tr><td>{@value HintAllocHoldStrategy#NAME}</td>
 *       <td>Linux free page hinting (VIRTIO_BALLOON_F_FREE_PAGE_HINT, v4.20+): on a new command
 *       id, order-10 blocks allocated without reclaim, hinted and held until DONE; a shrinker
 *       gives them back early under pressure; no delay (queue_work())</td></tr>
 *   <tr><td>{@value FreeListWalkStrategy#NAME}</td>
 *       <td>the report_unused_page_block() iterator (Wei Wang, v12, 2017): hints without taking,
 *       original or progressing cursor; through the reporting queue after frees, or (guest run
 *       {@code --hint-queue}) through the free page hint queue under the device's command
 *       ids</td></tr>
 * </table>
 */
public final class ReportingStrategies {
  /** The strategy used when none is named. */
  public static final String DEFAULT = PageReportingStrategy.NAME;

  private static final Map<String, ReportingStrategy.Factory> FACTORIES = registry();

  private static Map<String, ReportingStrategy.Factory> registry() {
    Map<String, ReportingStrategy.Factory> m = new LinkedHashMap<>();
    m.put(PageReportingStrategy.NAME, PageReportingStrategy::new);
    m.put(IsolateReportStrategy.NAME, IsolateReportStrategy::new);
    m.put(BitmapHintingStrategy.NAME, BitmapHintingStrategy::new);
    m.put(HintAllocHoldStrategy.NAME, HintAllocHoldStrategy::new);
    m.put(FreeListWalkStrategy.NAME, FreeListWalkStrategy::new);
    return Collections.unmodifiableMap(m);
  }

  private ReportingStrategies() {}

  /** The registered names, in registration order. */
  public static List<String> names() {
    return List.copyOf(FACTORIES.keySet());
  }

  /**
   * The delay between a request and its pass that models the strategy's kernel code, for a run
   * whose user did not set one: {@link ReportingOptions#PAGE_REPORTING_DELAY} (2 s, {@code
   * schedule_delayed_work()}) for the reporting strategies, {@link
   * HintAllocHoldStrategy#DEFAULT_DELAY} (zero) for {@value HintAllocHoldStrategy#NAME}, whose
   * driver queues its work with {@code queue_work()} when a command id arrives.
   *
   * @param name a registered name
   * @return the delay
   * @throws IllegalArgumentException if the name is unknown (the message lists the valid names)
   */
  public static Duration defaultDelay(String name) {
    factory(name);
    return HintAllocHoldStrategy.NAME.equals(name)
        ? HintAllocHoldStrategy.DEFAULT_DELAY
        : ReportingOptions.PAGE_REPORTING_DELAY;
  }

  /**
   * Creates the strategy registered under {@code name}.
   *
   * @param name a registered name
   * @param allocator the allocator whose free memory is reported
   * @param options the options
   * @return the strategy, not yet started
   * @throws IllegalArgumentException if the name is unknown (the message lists the valid names) or
   *     an option does not fit the allocator
   */
  public static ReportingStrategy create(
      String name, PageAllocator allocator, ReportingOptions options) {
    ReportingStrategy.Factory f = factory(name);
    if (allocator == null || options == null) {
      throw new IllegalArgumentException("allocator and options must not be null");
    }
    return f.create(allocator, options);
  }

  private static ReportingStrategy.Factory factory(String name) {
    ReportingStrategy.Factory f = name == null ? null : FACTORIES.get(name);
    if (f == null) {
      throw new IllegalArgumentException(
          "unknown reporting strategy '"
              + name
              + "'; valid names: "
              + String.join(", ", FACTORIES.keySet()));
    }
    return f;
  }
}
