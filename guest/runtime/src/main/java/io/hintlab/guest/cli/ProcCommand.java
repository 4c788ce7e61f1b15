package io.hintlab.guest.cli;

import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.view.ProcView;
import io.hintlab.guest.workload.WorkloadResult;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code hintlab guest proc}: the allocator model's /proc views. */
@Command(name = "proc", mixinStandardHelpOptions = true, sortOptions = false,
    description = {
      "Print /proc views of the allocator model, in the kernel's exact layout: buddyinfo, "
          + "pagetypeinfo, zoneinfo, vmstat, extfrag (extfrag_index), unusable "
          + "(unusable_index).",
      "The model is a freshly booted guest (--memory) or a machine imported from its "
          + "/proc/pagetypeinfo, optionally after a workload. One view prints exactly the "
          + "kernel's text; several are each preceded by a '==> FILE <==' line. The workload "
          + "summary goes to stderr."})
final class ProcCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--show", paramLabel = "VIEWS", required = true,
      description = "Comma-separated views: buddyinfo, pagetypeinfo, zoneinfo, vmstat, extfrag, "
          + "unusable.")
  String show;

  @Mixin ModelOptions model;

  @Mixin WorkloadOptions workload;

  @Override
  public Integer call() throws Exception {
    List<ProcView> views;
    try {
      views = ProcView.parseList(show);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--show: " + e.getMessage(), e);
    }
    model.check();
    workload.check();
    PageAllocator pa = model.build();
    WorkloadResult r = workload.runOn(pa);
    if (r != null) {
      PrintWriter err = spec.commandLine().getErr();
      err.println(r.summary());
      err.flush();
    }
    PrintWriter out = spec.commandLine().getOut();
    for (int i = 0; i < views.size(); i++) {
      ProcView v = views.get(i);
      if (views.size() > 1) {
        out.print((i == 0 ? "" : "\n") + "==> " + v.kernelPath() + " <==\n");
      }
      out.print(v.render(pa));
    }
    out.flush();
    return 0;
  }
}
