package io.hintlab.guest.cli;

import io.hintlab.guest.mm.MmConfig;
import io.hintlab.guest.mm.PageAllocator;
import io.hintlab.guest.mm.PagetypeinfoImport;
import io.hintlab.guest.mm.proc.PagetypeinfoData;
import io.hintlab.guest.mm.proc.PagetypeinfoParser;
import io.hintlab.guest.mm.proc.ZoneinfoData;
import io.hintlab.guest.mm.proc.ZoneinfoParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Options that choose the allocator model: a guest size ({@code --memory}) or a machine's
 * {@code /proc/pagetypeinfo} (with its {@code /proc/zoneinfo} for watermarks), and the number of
 * cpus.
 */
final class ModelOptions {
  /** Guest size when neither --memory nor --from-pagetypeinfo is given. */
  static final long DEFAULT_MEMORY = 1L << 30;

  @Option(names = "--memory", paramLabel = "SIZE", converter = Sizes.Converter.class,
      description = "Guest RAM: bytes or 1G, 512M, 1GiB, 2048MiB... (default: 1G).")
  Long memory;

  @Option(names = "--from-pagetypeinfo", paramLabel = "FILE",
      description = "Build the model from a machine's /proc/pagetypeinfo instead.")
  Path pagetypeinfo;

  @Option(names = "--zoneinfo", paramLabel = "FILE",
      description = "With --from-pagetypeinfo: the same machine's /proc/zoneinfo, for zone "
          + "spans and watermarks.")
  Path zoneinfo;

  @Option(names = "--cpus", paramLabel = "N", defaultValue = "2",
      description = "Modelled cpus, each with its own per-cpu lists (default: ${DEFAULT-VALUE}).")
  int cpus;

  /** Checks the combination and the files; call before building anything. */
  void check() {
    checkCpus(cpus);
    if (memory != null && pagetypeinfo != null) {
      throw new IllegalArgumentException(
          "--memory and --from-pagetypeinfo are mutually exclusive: the imported machine has "
              + "its own size");
    }
    if (zoneinfo != null && pagetypeinfo == null) {
      throw new IllegalArgumentException("--zoneinfo needs --from-pagetypeinfo");
    }
    checkFile("--from-pagetypeinfo", pagetypeinfo);
    checkFile("--zoneinfo", zoneinfo);
  }

  static void checkCpus(int cpus) {
    if (cpus < 1 || cpus > 1024) {
      throw new IllegalArgumentException("--cpus must be in [1, 1024], got " + cpus);
    }
  }

  private static void checkFile(String option, Path file) {
    if (file == null) {
      return;
    }
    if (!Files.exists(file)) {
      throw new IllegalArgumentException(option + ": no such file: " + file);
    }
    if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
      throw new IllegalArgumentException(option + ": not a readable file: " + file);
    }
  }

  /** Builds the model; errors name the option they come from. */
  PageAllocator build() throws IOException {
    if (pagetypeinfo != null) {
      return importModel();
    }
    long bytes = memory == null ? DEFAULT_MEMORY : memory;
    try {
      return new PageAllocator(MmConfig.builder().memory(bytes).nrCpus(cpus).build());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--memory: " + e.getMessage(), e);
    }
  }

  private PageAllocator importModel() throws IOException {
    PagetypeinfoData pti;
    try {
      pti = PagetypeinfoParser.parse(
          Files.readString(pagetypeinfo, StandardCharsets.UTF_8), pagetypeinfo.toString());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--from-pagetypeinfo: " + e.getMessage(), e);
    }
    ZoneinfoData zi = null;
    if (zoneinfo != null) {
      try {
        zi = ZoneinfoParser.parse(
            Files.readString(zoneinfo, StandardCharsets.UTF_8), zoneinfo.toString());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--zoneinfo: " + e.getMessage(), e);
      }
    }
    try {
      return PagetypeinfoImport.build(pti, zi, cpus);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--from-pagetypeinfo: " + e.getMessage(), e);
    }
  }

  /** "1G guest" or "imported from FILE", for summaries. */
  String describe() {
    if (pagetypeinfo != null) {
      return "imported from " + pagetypeinfo + (zoneinfo == null ? "" : " and " + zoneinfo);
    }
    return Sizes.format(memory == null ? DEFAULT_MEMORY : memory) + " guest";
  }
}
