package io.hintlab.guest.mm.proc;

import io.hintlab.guest.mm.MigrateType;
import java.util.List;
import java.util.Locale;

/**
 * Test helper: renders {@link PagetypeinfoData} as pagetypeinfo_show() prints it, independently of
 * the model's view, so that generated inputs have the kernel's exact layout.
 */
public final class PagetypeinfoText {
  private PagetypeinfoText() {}

  /** The kernel's text with the data's own migratetypes. */
  public static String render(PagetypeinfoData d) {
    return render(d, d.typeNames());
  }

  /** The kernel's text with the given migratetypes (absent ones print as zero). */
  public static String render(PagetypeinfoData d, List<String> typeNames) {
    StringBuilder sb = new StringBuilder();
    sb.append("Page block order: ").append(d.pageblockOrder()).append('\n');
    sb.append("Pages per block:  ").append(1L << d.pageblockOrder()).append('\n');
    sb.append('\n');
    sb.append(String.format(Locale.ROOT, "%-43s ", "Free pages count per migrate type at order"));
    for (int o = 0; o < d.nrPageOrders(); o++) {
      sb.append(String.format(Locale.ROOT, "%6d ", o));
    }
    sb.append('\n');
    for (PagetypeinfoData.ZoneCounts z : d.zones()) {
      for (String name : typeNames) {
        int mt = MigrateType.byName(name);
        sb.append(String.format(Locale.ROOT, "Node %4d, zone %8s, type %12s ", d.nodeId(),
            z.zone().kernelName(), name));
        for (int o = 0; o < d.nrPageOrders(); o++) {
          sb.append(z.capped(mt, o) ? ">" : "")
              .append(String.format(Locale.ROOT, "%6d ", z.free(mt, o)));
        }
        sb.append('\n');
      }
    }
    sb.append('\n').append(String.format(Locale.ROOT, "%-23s", "Number of blocks type "));
    for (String name : typeNames) {
      sb.append(String.format(Locale.ROOT, "%12s ", name));
    }
    sb.append('\n');
    for (PagetypeinfoData.ZoneCounts z : d.zones()) {
      sb.append(String.format(Locale.ROOT, "Node %d, zone %8s ", d.nodeId(),
          z.zone().kernelName()));
      for (String name : typeNames) {
        sb.append(String.format(Locale.ROOT, "%12d ", z.blocks(MigrateType.byName(name))));
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  /** The same text with every line's trailing spaces stripped (what some editors save). */
  public static String stripped(String text) {
    StringBuilder sb = new StringBuilder();
    for (String l : text.split("\n", -1)) {
      sb.append(l.stripTrailing()).append('\n');
    }
    return sb.substring(0, sb.length() - 1);
  }
}
