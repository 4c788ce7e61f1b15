package io.hintlab.guest.driver;

import io.hintlab.guest.reporting.HintSink;
import io.hintlab.guest.reporting.ReportException;
import io.hintlab.guest.reporting.ReportingAgent;
import io.hintlab.guest.transport.DeviceClient;
import io.hintlab.guest.transport.TransportException;
import java.util.Arrays;

/**
 * The free page virtqueue as a hinting strategy sees it: {@link HintSink} over {@link
 * DeviceClient#hintStart}, {@link DeviceClient#hintRanges} and {@link DeviceClient#hintStop}
 * ({@code send_cmd_id_start()}, the hinted blocks as input buffers, {@code send_cmd_id_stop()}).
 * Every {@link TransportException} becomes a {@link ReportException} caused by it, and so does a
 * missing session (not attached yet, detached, being re-established), as for reports.
 *
 * <p>The virtqueue holds at most {@value DeviceClient#MAX_HINT_RANGES} buffers, so larger hints
 * go in several calls; once the device has moved on to another command id (STOP, DONE or a new
 * round) the rest is not sent, as the device would ignore it.
 *
 * <p>With a {@link ReportingAgent.Vcpu}, each device call is made outside guest mode, as a vCPU
 * kicking the free page virtqueue exits to the VMM: a paused guest stops the reporting thread
 * there, which a host that pauses the guest inside a hint call (discard-hints-paused) needs.
 *
 * <p><b>Note:</b> called from the reporting thread only (see {@link HintSink}).
 */
public final class DeviceHintSink implements HintSink {
  private final DeviceClient client;
  private final ReportingAgent.Vcpu vcpu;

  /** A device call on the free page queue. */
  @FunctionalInterface
  private interface HintCall {
    int run() throws TransportException;
  }

  /**
   * A sink over the client's session, for a guest that is never paused.
   *
   * @param client the device
   * @throws IllegalArgumentException if the client is null
   */
  public DeviceHintSink(DeviceClient client) {
    this(client, ReportingAgent.Vcpu.NONE);
  }

  /**
   * A sink over the client's session whose calls leave guest mode on {@code vcpu}.
   *
   * @param client the device
   * @param vcpu the reporting thread's vCPU (the run's gate)
   * @throws IllegalArgumentException if an argument is null
   */
  public DeviceHintSink(DeviceClient client, ReportingAgent.Vcpu vcpu) {
    if (client == null || vcpu == null) {
      throw new IllegalArgumentException("client and vcpu must not be null");
    }
    this.client = client;
    this.vcpu = vcpu;
  }

  @Override
  public int start(int cmdId) throws ReportException {
    return call(() -> client.hintStart(cmdId).hostCmdId());
  }

  @Override
  public int hint(int cmdId, long[] pfns, int[] orders, int n) throws ReportException {
    if (n < 1 || pfns.length < n || orders.length < n) {
      throw new IllegalArgumentException("n must be at least 1 and at most pfns.length "
          + pfns.length + " and orders.length " + orders.length + ", was " + n);
    }
    return call(() -> hintRanges(cmdId, pfns, orders, n));
  }

  private int hintRanges(int cmdId, long[] pfns, int[] orders, int n)
      throws TransportException {
    int max = DeviceClient.MAX_HINT_RANGES;
    if (n <= max) {
      return client.hintRanges(cmdId, pfns, orders, n).hostCmdId();
    }
    int hostCmdId = cmdId;
    for (int from = 0; from < n && hostCmdId == cmdId; from += max) {
      int to = Math.min(n, from + max);
      hostCmdId = client.hintRanges(cmdId, Arrays.copyOfRange(pfns, from, to),
          Arrays.copyOfRange(orders, from, to), to - from).hostCmdId();
    }
    return hostCmdId;
  }

  @Override
  public void stop() throws ReportException {
    call(() -> {
      client.hintStop();
      return 0;
    });
  }

  /** One device call outside guest mode; its failure as a ReportException. */
  private int call(HintCall c) throws ReportException {
    // virtqueue_kick() is a VM exit: the vCPU may be stopped until the device is done
    vcpu.exit();
    try {
      requireSession("Hint");
      return c.run();
    } catch (TransportException e) {
      throw new ReportException(e.getMessage(), e);
    } finally {
      vcpu.enter();
    }
  }

  private void requireSession(String rpc) throws TransportException {
    if (client.session().isEmpty()) {
      throw TransportException.local(TransportException.Reason.SESSION_LOST, rpc,
          "no session: not attached yet, detached, or being re-established");
    }
  }
}
