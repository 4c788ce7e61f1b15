package io.hintlab.host.cli;

import io.hintlab.host.rpc.HostAddress;
import java.nio.file.Path;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** {@code --socket PATH | --listen HOST:PORT}, shared by serve and status. */
final class HostAddressOptions {
  @ArgGroup(exclusive = true, multiplicity = "0..1")
  Choice choice;

  static final class Choice {
    @Option(names = "--socket", paramLabel = "PATH",
        description = "Unix domain socket (default: $XDG_RUNTIME_DIR/hintlab/host.sock, else "
            + "/tmp/hintlab-$USER/host.sock).")
    Path socket;

    @Option(names = "--listen", paramLabel = "HOST:PORT",
        description = "TCP address instead of the socket, e.g. 127.0.0.1:7070.")
    String listen;
  }

  /** The address chosen, or the default socket. */
  HostAddress address() {
    if (choice != null && choice.listen != null) {
      return HostAddress.parseTcp(choice.listen);
    }
    Path p = choice != null && choice.socket != null ? choice.socket : HostAddress.defaultSocket();
    return HostAddress.unix(p.toAbsolutePath());
  }
}
