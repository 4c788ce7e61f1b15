package io.hintlab.guest.cli;

import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.workload.FtraceParser;
import io.hintlab.guest.workload.Workload;
import io.hintlab.guest.workload.WorkloadConfig;
import io.hintlab.guest.workload.WorkloadParam;
import io.hintlab.guest.workload.WorkloadResult;
import io.hintlab.guest.workload.Workloads;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Options that choose a workload to run on the model: --workload, --seed, --ops, and the
 * workload's own parameters ({@link Params}).
 */
final class WorkloadOptions {
  @Option(names = "--workload", paramLabel = "NAME",
      description = "Run a workload on the model first: churn, contig, fragment, idle, memhog, "
          + "mixed, replay or thp.")
  String workload;

  @Option(names = "--seed", paramLabel = "N",
      description = "Seed of the workload (default: 1).")
  Long seed;

  @Option(names = "--ops", paramLabel = "N",
      description = "The workload's amount of work (0 = its default): fragment: fill "
          + "allocations; mixed, churn: steps; idle: working-set allocations; memhog: cycles; "
          + "thp: THP attempts; contig: background steps; replay: trace events.")
  Long ops;

  @Mixin Params params;

  /** Checks the combination; call before building anything. */
  void check() {
    if (workload == null && (seed != null || ops != null)) {
      throw new IllegalArgumentException(
          (seed != null ? "--seed" : "--ops") + " needs --workload");
    }
    if (ops != null && ops < 0) {
      throw new IllegalArgumentException("--ops must be >= 0, got " + ops);
    }
    checkName(workload);
    params.check(workload);
  }

  /** Runs the chosen workload on pa, or returns null when none was chosen. */
  WorkloadResult runOn(PageAllocator pa) throws IOException {
    if (workload == null) {
      return null;
    }
    Workload w = params.create(workload, pa, seed == null ? 1 : seed);
    return w.run(ops == null ? 0 : ops);
  }

  /** Checks a --workload name (null: none chosen). */
  static void checkName(String name) {
    if (name != null && !Workloads.names().contains(name)) {
      throw new IllegalArgumentException("--workload: unknown workload '" + name
          + "': expected one of " + String.join(", ", Workloads.names()));
    }
  }

  /**
   * The workload's own parameters: {@code --workload-arg KEY=VALUE} (repeatable; the keys each
   * workload takes are in its description) and {@code --trace FILE} for {@code replay}.
   */
  static final class Params {
    @Option(names = "--workload-arg", paramLabel = "KEY=VALUE",
        description = "A parameter of the workload (repeatable). churn: bytes (working-set "
            + "bound); memhog: bytes (per cycle); thp: lifetime (mean attempts a THP is held); "
            + "contig: size (bytes per allocation), every (steps between allocations), hold "
            + "(steps a range is held). Sizes take K, M, G suffixes.")
    List<String> args = new ArrayList<>();

    @Option(names = "--trace", paramLabel = "FILE",
        description = "With --workload replay: the ftrace text file of mm_page_alloc and "
            + "mm_page_free events to replay.")
    Path trace;

    private Map<String, Long> parsed;

    /** Checks the parameters against the workload (null: none chosen); reads no file. */
    void check(String workload) {
      if (workload == null) {
        if (!args.isEmpty()) {
          throw new IllegalArgumentException("--workload-arg needs --workload");
        }
        if (trace != null) {
          throw new IllegalArgumentException("--trace needs --workload replay");
        }
        return;
      }
      if (Workloads.needsTrace(workload)) {
        if (trace == null) {
          throw new IllegalArgumentException("--workload " + workload + " needs --trace FILE");
        }
        if (!Files.exists(trace)) {
          throw new IllegalArgumentException("--trace: no such file: " + trace);
        }
        if (!Files.isRegularFile(trace) || !Files.isReadable(trace)) {
          throw new IllegalArgumentException("--trace: not a readable file: " + trace);
        }
      } else if (trace != null) {
        throw new IllegalArgumentException(
            "--trace is only for --workload replay, not " + workload);
      }
      parsed = parseArgs(workload);
    }

    private Map<String, Long> parseArgs(String workload) {
      List<WorkloadParam> accepted = Workloads.params(workload);
      Map<String, Long> out = new LinkedHashMap<>();
      for (String a : args) {
        int eq = a.indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException("--workload-arg: expected KEY=VALUE, got '" + a + "'");
        }
        String key = a.substring(0, eq);
        String value = a.substring(eq + 1);
        WorkloadParam p = accepted.stream().filter(q -> q.key().equals(key)).findFirst()
            .orElseThrow(() -> new IllegalArgumentException("--workload-arg: workload "
                + workload + " has no argument '" + key + "'" + (accepted.isEmpty()
                    ? " (it takes none)"
                    : ": expected " + String.join(", ",
                        accepted.stream().map(WorkloadParam::key).toList()))));
        if (out.containsKey(key)) {
          throw new IllegalArgumentException("--workload-arg: " + key + " given twice");
        }
        out.put(key, p.size() ? size(key, value) : count(key, value));
      }
      return out;
    }

    private static long size(String key, String value) {
      try {
        return Sizes.parse(value);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--workload-arg " + key + ": " + e.getMessage(), e);
      }
    }

    private static long count(String key, String value) {
      try {
        return Long.parseLong(value.strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "--workload-arg " + key + ": '" + value + "' is not a whole number", e);
      }
    }

    /**
     * Creates the workload on pa; call {@link #check} first. Bad values name their option.
     *
     * @throws IOException if the trace cannot be read
     */
    Workload create(String workload, PageAllocator pa, long seed) throws IOException {
      WorkloadConfig config = config(workload);
      try {
        return Workloads.create(workload, pa, seed, config);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--workload-arg " + e.getMessage(), e);
      }
    }

    /**
     * The workload's configuration: its arguments and, for {@code replay}, the parsed trace; call
     * {@link #check} first. Values checked only against the allocator are checked on creation.
     *
     * @throws IOException if the trace cannot be read
     */
    WorkloadConfig config(String workload) throws IOException {
      if (parsed == null) {
        check(workload);
      }
      WorkloadConfig config = WorkloadConfig.DEFAULT.withArgs(parsed);
      if (trace != null) {
        FtraceParser.Trace t;
        try {
          t = FtraceParser.parse(trace);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("--trace: " + e.getMessage(), e);
        }
        config = config.withTrace(t);
      }
      return config;
    }
  }
}
