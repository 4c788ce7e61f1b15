package io.hintlab.guest.workload;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a workload is given besides its allocator and seed.
 *
 * @param args values of the workload's parameters ({@link Workloads#params}), by key; a missing
 *     key takes the workload's default
 * @param trace the ftrace events of the {@code replay} workload; null for the others
 * @param writer what writes and verifies the pages the workload holds
 */
public record WorkloadConfig(Map<String, Long> args, FtraceParser.Trace trace, PageWriter writer) {
  /** No arguments, no trace, no RAM. */
  public static final WorkloadConfig DEFAULT = new WorkloadConfig(Map.of(), null, PageWriter.NONE);

  /** Copies the arguments (sorted by key); null args are empty and a null writer is none. */
  public WorkloadConfig {
    args = args == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(args));
    writer = writer == null ? PageWriter.NONE : writer;
  }

  /** A copy with other arguments. */
  public WorkloadConfig withArgs(Map<String, Long> newArgs) {
    return new WorkloadConfig(newArgs, trace, writer);
  }

  /** A copy with another trace. */
  public WorkloadConfig withTrace(FtraceParser.Trace newTrace) {
    return new WorkloadConfig(args, newTrace, writer);
  }

  /** A copy with another page writer. */
  public WorkloadConfig withWriter(PageWriter newWriter) {
    return new WorkloadConfig(args, trace, newWriter);
  }

  /** The value of {@code key}, or {@code dflt} when it was not given. */
  long arg(String key, long dflt) {
    Long v = args.get(key);
    return v == null ? dflt : v;
  }
}
