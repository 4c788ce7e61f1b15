package io.hintlab.host.rpc;

import java.nio.file.Path;

/**
 * Where a host listens: a Unix domain socket (the default), a TCP address, or an in-process name
 * (tests and the lab).
 *
 * @param kind which transport
 * @param path socket path (UNIX) or in-process name (IN_PROCESS)
 * @param host TCP host
 * @param port TCP port (0 = any free port when listening)
 */
public record HostAddress(Kind kind, String path, String host, int port) {
  /** Transport kinds. */
  public enum Kind {
    UNIX,
    TCP,
    IN_PROCESS
  }

  /** A Unix domain socket. */
  public static HostAddress unix(Path socket) {
    return new HostAddress(Kind.UNIX, socket.toString(), "", 0);
  }

  /** A TCP address. */
  public static HostAddress tcp(String host, int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be in [0, 65535], was " + port);
    }
    return new HostAddress(Kind.TCP, "", host, port);
  }

  /** An in-process server name. */
  public static HostAddress inProcess(String name) {
    return new HostAddress(Kind.IN_PROCESS, name, "", 0);
  }

  /**
   * The default socket, used by both {@code host serve} and {@code host status}:
   * {@code $XDG_RUNTIME_DIR/hintlab/host.sock} when XDG_RUNTIME_DIR is a directory, else
   * {@code /tmp/hintlab-<user>/host.sock}.
   */
  public static Path defaultSocket() {
    String xdg = System.getenv("XDG_RUNTIME_DIR");
    if (xdg != null && !xdg.isEmpty() && java.nio.file.Files.isDirectory(Path.of(xdg))) {
      return Path.of(xdg, "hintlab", "host.sock");
    }
    return Path.of("/tmp", "hintlab-" + System.getProperty("user.name", "user"), "host.sock");
  }

  /**
   * Parses {@code HOST:PORT} (for --listen).
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  public static HostAddress parseTcp(String s) {
    int colon = s.lastIndexOf(':');
    if (colon <= 0 || colon == s.length() - 1) {
      throw new IllegalArgumentException("--listen wants HOST:PORT, e.g. 127.0.0.1:7070, got '"
          + s + "'");
    }
    int port;
    try {
      port = Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--listen port is not a number in '" + s + "'");
    }
    return tcp(s.substring(0, colon), port);
  }

  @Override
  public String toString() {
    return switch (kind) {
      case UNIX -> "unix:" + path;
      case TCP -> host + ":" + port;
      case IN_PROCESS -> "in-process:" + path;
    };
  }
}
