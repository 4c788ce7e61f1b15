package io.hintlab.host.lab;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.hintlab.host.rpc.HostChannel;
import io.hintlab.host.rpc.HostConfig;
import io.hintlab.host.rpc.HostServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ControlProbeTest {

  @Test
  void runningHostAnswers(@TempDir Path state) throws Exception {
    try (HostServer host = HostServer.startInProcess(HostConfig.defaults().withStateBase(state));
        HostChannel ch = HostChannel.open(host.address())) {
      assertTrue(ControlProbe.answers(ch.channel(), Duration.ofSeconds(5)));
    }
  }

  @Test
  void absentHostIsNotReady() {
    ManagedChannel ch = InProcessChannelBuilder.forName("no-such-host-" + System.nanoTime())
        .build();
    try {
      assertFalse(ControlProbe.answers(ch, Duration.ofSeconds(2)));
    } finally {
      ch.shutdownNow();
    }
  }
}
