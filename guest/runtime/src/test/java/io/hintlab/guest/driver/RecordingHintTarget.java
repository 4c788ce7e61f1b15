package io.hintlab.guest.driver;

import io.hintlab.guest.reporting.HintCommandTarget;
import io.hintlab.guest.reporting.HintSink;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A hint target that records the command ids it is given and the thread that gave them. */
final class RecordingHintTarget implements HintCommandTarget {
  final List<Integer> ids = new CopyOnWriteArrayList<>();
  final List<String> threads = new CopyOnWriteArrayList<>();
  volatile HintSink sink;

  @Override
  public void setHintSink(HintSink s) {
    sink = s;
  }

  @Override
  public void onCommandId(int cmdId) {
    ids.add(cmdId);
    threads.add(Thread.currentThread().getName());
  }
}
