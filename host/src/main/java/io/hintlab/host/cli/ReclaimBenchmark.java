package io.hintlab.host.cli;

import io.hintlab.host.memory.NativeLibc;
import io.hintlab.host.memory.StateDirs;
import io.hintlab.host.rpc.HostAddress;
import io.hintlab.host.rpc.HostChannel;
import io.hintlab.host.rpc.HostConfig;
import io.hintlab.host.rpc.HostServer;
import io.hintlab.proto.v1.AttachResponse;
import io.hintlab.proto.v1.BalloonDeviceGrpc;
import io.hintlab.proto.v1.DetachRequest;
import io.hintlab.proto.v1.PageRange;
import io.hintlab.proto.v1.ReportRequest;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * Reclaim throughput over the real transport vs raw punch-hole throughput on the same kind of file,
 * in one run. Each pass first populates (writes every page and sets its dirty bit, as a guest
 * does; not timed), then discards everything: through Report calls of {@code batch} ranges to a
 * host on a Unix socket, or with plain fallocate calls of the same range size. Passes alternate.
 */
final class ReclaimBenchmark {
  private static final int PAGE = 4096;
  private static final VarHandle WORD = ValueLayout.JAVA_LONG.varHandle();

  /** Settings of one run. */
  record Params(long memoryBytes, int order, int batch, int passes, long warmupMs) {}

  /** Results; throughputs in bytes per second, latencies in microseconds. */
  record Result(Params params, double reclaimBytesPerSec, double rawBytesPerSec,
      double rttP50Us, double rttP99Us, long reports, String transport,
      double hostSideBytesPerSec) {
    double ratio() {
      return reclaimBytesPerSec / rawBytesPerSec;
    }
  }

  private ReclaimBenchmark() {}

  static Result run(Params p) throws IOException {
    Path base = StateDirs.defaultBase();
    Path work = StateDirs.createHostDir(base);
    Path socket = work.resolve("bench.sock");
    HostConfig config = HostConfig.defaults().withStateBase(base);
    try (HostServer host = HostServer.start(config, HostAddress.unix(socket));
        HostChannel ch = HostChannel.open(host.address());
        Arena arena = Arena.ofShared()) {
      var stub = BalloonDeviceGrpc.newBlockingStub(ch.channel());
      AttachResponse a = stub.withDeadlineAfter(10, TimeUnit.SECONDS).attach(
          io.hintlab.proto.v1.AttachRequest.newBuilder().setGuestName("bench-reclaim")
              .setMemoryBytes(p.memoryBytes()).setPageSize(PAGE)
              .setDriverFeatures(1L << 5).setMaxOrder(Math.max(10, p.order()))
              .setPid(ProcessHandle.current().pid()).build());
      warmUpTransport(stub, a.getSessionToken(), p.warmupMs());
      MemorySegment ram = map(Path.of(a.getRamPath()), p.memoryBytes(), arena);
      MemorySegment log = map(Path.of(a.getDirtyLogPath()),
          Files.size(Path.of(a.getDirtyLogPath())), arena);
      Path rawFile = work.resolve("raw.ram");
      try (RandomAccessFile f = new RandomAccessFile(rawFile.toFile(), "rw")) {
        f.setLength(p.memoryBytes());
      }
      MemorySegment raw = map(rawFile, p.memoryBytes(), arena);
      int rawFd = NativeLibc.open(rawFile);
      long rangeBytes = (long) PAGE << p.order();
      int ranges = (int) (p.memoryBytes() / rangeBytes);
      int batches = (ranges + p.batch() - 1) / p.batch();
      long[] rtt = new long[batches * p.passes()];
      int n = 0;
      long reclaimNs = 0;
      long rawNs = 0;
      long reclaimed = 0;
      long hostNs = 0;
      try {
        // Warm-up passes (negative numbers) let the JIT compile both paths; they are not counted.
        int warmup = Math.max(3, p.passes() / 4);
        for (int pass = -warmup; pass < p.passes(); pass++) {
          populate(ram, log);
          long t0 = System.nanoTime();
          for (int b = 0; b < batches; b++) {
            ReportRequest.Builder req = ReportRequest.newBuilder()
                .setSessionToken(a.getSessionToken());
            for (int r = b * p.batch(); r < Math.min(ranges, (b + 1) * p.batch()); r++) {
              req.addRanges(PageRange.newBuilder().setPfn((long) r << p.order())
                  .setOrder(p.order()));
            }
            long s = System.nanoTime();
            var resp = stub.withDeadlineAfter(30, TimeUnit.SECONDS).report(req.build());
            long e = System.nanoTime();
            if (pass >= 0) {
              rtt[n++] = e - s;
              reclaimed += resp.getDiscardedPages() * PAGE;
            }
          }
          long t1 = System.nanoTime();
          if (pass == -1) {
            hostNs = -handlingNs(host); // measured passes start now
          }
          populate(raw, null);
          long t2 = System.nanoTime();
          for (int r = 0; r < ranges; r++) {
            NativeLibc.punchHole(rawFd, r * rangeBytes, rangeBytes);
          }
          long t3 = System.nanoTime();
          if (pass >= 0) {
            reclaimNs += t1 - t0;
            rawNs += t3 - t2;
          }
        }
        hostNs += handlingNs(host);
        if (NativeLibc.allocatedBytes(Path.of(a.getRamPath())) != 0) {
          throw new IllegalStateException("reports left memory allocated: the benchmark is void");
        }
      } finally {
        NativeLibc.close(rawFd);
        stub.withDeadlineAfter(5, TimeUnit.SECONDS)
            .detach(DetachRequest.newBuilder().setSessionToken(a.getSessionToken()).build());
        Files.deleteIfExists(rawFile);
      }
      long[] sorted = Arrays.copyOf(rtt, n);
      Arrays.sort(sorted);
      double rawBytes = (double) p.memoryBytes() * p.passes();
      return new Result(p, reclaimed / (reclaimNs / 1e9), rawBytes / (rawNs / 1e9),
          percentile(sorted, 0.50) / 1e3, percentile(sorted, 0.99) / 1e3, n,
          host.address().toString(), reclaimed / (hostNs / 1e9));
    } finally {
      StateDirs.deleteTree(work);
    }
  }

  /**
   * Lets the JIT compile the gRPC/Netty call path (thousands of calls) before anything is timed;
   * interpreted, one call costs milliseconds and would be charged to the first reports.
   */
  private static void warmUpTransport(BalloonDeviceGrpc.BalloonDeviceBlockingStub stub,
      String token, long warmupMs) {
    var hb = io.hintlab.proto.v1.HeartbeatRequest.newBuilder().setSessionToken(token).build();
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(warmupMs);
    for (int i = 0; i < 20_000 && System.nanoTime() < until; i++) {
      stub.withDeadlineAfter(5, TimeUnit.SECONDS).heartbeat(hb);
    }
  }

  private static long handlingNs(HostServer host) {
    return host.registry().sessions().stream()
        .mapToLong(s -> s.device().counter(io.hintlab.host.device.Counter.REPORT_HANDLING_NS))
        .sum();
  }

  private static MemorySegment map(Path file, long size, Arena arena) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      return ch.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
    }
  }

  // Touches every page (allocates it) and sets its dirty bit, as a guest writing it would.
  private static void populate(MemorySegment ram, MemorySegment log) {
    long pages = ram.byteSize() / PAGE;
    for (long pfn = 0; pfn < pages; pfn++) {
      ram.set(ValueLayout.JAVA_LONG, pfn * PAGE, pfn + 1);
    }
    if (log != null) {
      for (long w = 0; w < (pages + 63) / 64; w++) {
        long unused = (long) WORD.getAndBitwiseOr(log, w * 8, -1L);
      }
    }
  }

  private static double percentile(long[] sorted, double q) {
    if (sorted.length == 0) {
      return 0;
    }
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }
}
