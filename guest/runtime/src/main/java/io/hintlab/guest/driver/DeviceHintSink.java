package io.hintlab.guest.driver;

import io.hintlab.guest.reporting.HintSink;
import io.hintlab.guest.reporting.ReportException;
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
 * <p><b>Note:</b> called from the reporting thread only (see {@link HintSink}).
 */
public final class DeviceHintSink implements HintSink {
  private final DeviceClient client;

  /**
   * A sink over the client's session.
   *
   * @param client the device
   * @throws IllegalArgumentException if the client is null
   */
  public DeviceHintSink(DeviceClient client) {
    if (client == null) {
      throw new IllegalArgumentException("client must not be null");
    }
    this.client = client;
  }

  @Override
  public int start(int cmdId) throws ReportException {
    try {
      requireSession("Hint");
      return client.hintStart(cmdId).hostCmdId();
    } catch (TransportException e) {
      throw new ReportException(e.getMessage(), e);
    }
  }

  @Override
  public int hint(int cmdId, long[] pfns, int[] orders, int n) throws ReportException {
    if (n < 1 || pfns.length < n || orders.length < n) {
      throw new IllegalArgumentException("n must be at least 1 and at most pfns.length "
          + pfns.length + " and orders.length " + orders.length + ", was " + n);
    }
    try {
      requireSession("Hint");
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
    } catch (TransportException e) {
      throw new ReportException(e.getMessage(), e);
    }
  }

  @Override
  public void stop() throws ReportException {
    try {
      requireSession("Hint");
      client.hintStop();
    } catch (TransportException e) {
      throw new ReportException(e.getMessage(), e);
    }
  }

  private void requireSession(String rpc) throws TransportException {
    if (client.session().isEmpty()) {
      throw TransportException.local(TransportException.Reason.SESSION_LOST, rpc,
          "no session: not attached yet, detached, or being re-established");
    }
  }
}
