package io.hintlab.guest.workload;

/**
 * A parameter a workload accepts ({@code --workload-arg KEY=VALUE} on the command line).
 *
 * @param key the name
 * @param size true when the value is a memory size in bytes (the command line accepts 1G, 512M
 *     and the like), false for a plain count
 * @param description one line: meaning, unit and default
 */
public record WorkloadParam(String key, boolean size, String description) {}
