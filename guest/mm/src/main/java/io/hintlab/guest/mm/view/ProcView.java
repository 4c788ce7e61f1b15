package io.hintlab.guest.mm.view;

import io.hintlab.guest.mm.PageAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The views by the names the CLI accepts ({@code --show buddyinfo,zoneinfo}), each with the
 * kernel file it mirrors and its renderer.
 */
public enum ProcView {
  BUDDYINFO("buddyinfo", "/proc/buddyinfo", BuddyInfo::render),
  PAGETYPEINFO("pagetypeinfo", "/proc/pagetypeinfo", PageTypeInfo::render),
  ZONEINFO("zoneinfo", "/proc/zoneinfo", ZoneInfo::render),
  VMSTAT("vmstat", "/proc/vmstat", VmStat::render),
  EXTFRAG("extfrag", "/sys/kernel/debug/extfrag/extfrag_index", ExtFrag::renderExtfragIndex),
  UNUSABLE("unusable", "/sys/kernel/debug/extfrag/unusable_index", ExtFrag::renderUnusableIndex);

  private final String viewName;
  private final String kernelPath;
  private final Function<PageAllocator, String> renderer;

  ProcView(String viewName, String kernelPath, Function<PageAllocator, String> renderer) {
    this.viewName = viewName;
    this.kernelPath = kernelPath;
    this.renderer = renderer;
  }

  /** The name the CLI accepts ("buddyinfo", ...). */
  public String viewName() {
    return viewName;
  }

  /** The kernel file the view mirrors ("/proc/buddyinfo", ...). */
  public String kernelPath() {
    return kernelPath;
  }

  /** The view's text for the model. */
  public String render(PageAllocator a) {
    return renderer.apply(a);
  }

  /** The valid names, comma-separated, in declaration order. */
  public static String validNames() {
    return Stream.of(values()).map(ProcView::viewName).collect(Collectors.joining(", "));
  }

  /**
   * The view named {@code name} (exactly, e.g. "zoneinfo").
   *
   * @throws IllegalArgumentException naming the unknown view and listing the valid ones
   */
  public static ProcView byName(String name) {
    for (ProcView v : values()) {
      if (v.viewName.equals(name)) {
        return v;
      }
    }
    throw new IllegalArgumentException(
        "unknown view '" + name + "'; valid views are: " + validNames());
  }

  /**
   * The views of a comma-separated list ("buddyinfo,zoneinfo"), in the order given; blanks
   * around names are ignored.
   *
   * @throws IllegalArgumentException for an empty list or name, or an unknown name
   */
  public static List<ProcView> parseList(String names) {
    List<ProcView> out = new ArrayList<>();
    for (String name : names.split(",", -1)) {
      String n = name.strip();
      if (n.isEmpty()) {
        throw new IllegalArgumentException(
            "empty view name in '" + names + "'; valid views are: " + validNames());
      }
      out.add(byName(n));
    }
    return out;
  }
}
