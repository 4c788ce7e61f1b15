package io.hintlab.host.rpc;

import io.hintlab.host.device.ConfigSpace;
import io.hintlab.proto.v1.BalloonConfig;
import io.hintlab.proto.v1.PageRange;
import java.util.List;

/** Conversions between proto messages and the device's plain types. */
final class ProtoConverters {
  private ProtoConverters() {}

  static BalloonConfig config(ConfigSpace c) {
    return BalloonConfig.newBuilder()
        .setNumPages(c.numPages())
        .setActual(c.actual())
        .setFreePageHintCmdId(c.freePageHintCmdId())
        .setPoisonVal(c.poisonVal())
        .build();
  }

  static long[] pfns(List<PageRange> ranges) {
    long[] p = new long[ranges.size()];
    for (int i = 0; i < p.length; i++) {
      p[i] = ranges.get(i).getPfn();
    }
    return p;
  }

  static int[] orders(List<PageRange> ranges) {
    int[] o = new int[ranges.size()];
    for (int i = 0; i < o.length; i++) {
      o[i] = ranges.get(i).getOrder();
    }
    return o;
  }

  static long[] longs(List<Long> l) {
    long[] a = new long[l.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = l.get(i);
    }
    return a;
  }
}
