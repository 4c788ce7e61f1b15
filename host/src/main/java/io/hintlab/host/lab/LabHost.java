package io.hintlab.host.lab;

import io.hintlab.host.device.HostMode;
import io.hintlab.host.rpc.HostAddress;
import io.hintlab.host.rpc.HostChannel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code host serve} child process of the lab, ready to answer: started on a Unix socket in
 * the lab's private directory, or on 127.0.0.1 port 0, and waited for (bounded) until its control
 * service answers.
 *
 * <p><b>TCP port.</b> The host binds port 0 and prints the port the kernel gave it ({@code
 * listening on 127.0.0.1:N}); the lab reads that line from the host's log. Choosing a free port
 * in the lab and passing it would race with every other process on the machine between the
 * choice and the bind; binding port 0 cannot lose that race.
 */
public final class LabHost implements AutoCloseable {
  /** How long a host JVM may take to start and answer (a loaded 2-core machine is slow). */
  public static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

  private static final Duration PROBE_DEADLINE = Duration.ofSeconds(1);
  private static final Duration POLL = Duration.ofMillis(100);
  private static final Pattern LISTENING =
      Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d{1,5})\\b");

  private final ChildProcess process;
  private final HostAddress address;
  private final HostChannel channel;

  private LabHost(ChildProcess process, HostAddress address, HostChannel channel) {
    this.process = process;
    this.address = address;
    this.channel = channel;
  }

  /**
   * Starts a host and waits until its control service answers.
   *
   * @param commands the lab's command lines
   * @param dir the lab directory (socket and {@code host.log})
   * @param transport unix or tcp
   * @param mode the host mode for new guests
   * @param children where the process is registered as soon as it exists, so that a shutdown
   *     hook can stop it even while this method waits
   * @return the ready host
   * @throws IOException if the process cannot be started
   * @throws InterruptedException if interrupted while waiting
   * @throws IllegalStateException if the host dies or is not ready within {@link #READY_TIMEOUT}
   *     (the message names its log and quotes its last lines)
   */
  public static LabHost start(LabCommands commands, LabDir dir, Transport transport,
      HostMode mode, LabChildren children) throws IOException, InterruptedException {
    return start(commands, dir, transport, mode, List.of(), children);
  }

  /**
   * As {@link #start(LabCommands, LabDir, Transport, HostMode, LabChildren)}, with more {@code
   * host serve} options (e.g. {@code --hint-delay-ms=20}).
   *
   * @param serveArgs options appended to {@code host serve}'s command line
   */
  public static LabHost start(LabCommands commands, LabDir dir, Transport transport,
      HostMode mode, List<String> serveArgs, LabChildren children)
      throws IOException, InterruptedException {
    Path log = dir.resolve("host.log");
    Path socket = dir.resolve("host.sock");
    List<String> where = transport == Transport.UNIX
        ? List.of("--socket", socket.toString())
        : List.of("--listen", "127.0.0.1:0");
    List<String> args = new ArrayList<>(where);
    args.addAll(List.of("--mode", mode.wireName()));
    args.addAll(serveArgs);
    ChildProcess p = children.add(ChildProcess.start("host", commands.hostServe(args), log));
    HostAddress address = transport == Transport.UNIX ? HostAddress.unix(socket)
        : HostAddress.tcp("127.0.0.1", awaitPort(p));
    HostChannel ch = HostChannel.open(address);
    try {
      Readiness.await("the host's control service at " + address,
          () -> ControlProbe.answers(ch.channel(), PROBE_DEADLINE), READY_TIMEOUT, POLL, p);
    } catch (RuntimeException | InterruptedException e) {
      ch.close();
      throw e;
    }
    return new LabHost(p, address, ch);
  }

  private static int awaitPort(ChildProcess p) throws InterruptedException {
    int[] port = {0};
    Readiness.await("the host to print its TCP port in " + p.log(), () -> {
      OptionalInt found = announcedPort(p.log());
      found.ifPresent(v -> port[0] = v);
      return found.isPresent();
    }, READY_TIMEOUT, POLL, p);
    return port[0];
  }

  /**
   * The port in the host's {@code listening on 127.0.0.1:N} line.
   *
   * @param log the host's log
   * @return the port, or empty while the line is not there
   */
  static OptionalInt announcedPort(Path log) {
    try {
      Matcher m = LISTENING.matcher(Files.readString(log, StandardCharsets.UTF_8));
      return m.find() ? OptionalInt.of(Integer.parseInt(m.group(1))) : OptionalInt.empty();
    } catch (IOException e) {
      return OptionalInt.empty(); // not written yet
    }
  }

  /** The host process. */
  public ChildProcess process() {
    return process;
  }

  /** Where it listens. */
  public HostAddress address() {
    return address;
  }

  /** The address as {@code guest run --host} takes it. */
  public String guestAddress() {
    return address.toString();
  }

  /** A channel to its services (callers put a deadline on every call). */
  public HostChannel channel() {
    return channel;
  }

  /** Closes the channel and stops the process (bounded). */
  @Override
  public void close() {
    channel.close();
    process.close();
  }
}
