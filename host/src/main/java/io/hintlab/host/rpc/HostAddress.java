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
    String host = s.substring(0, colon);
    if (!isLoopback(host)) {
      // DESIGN section 5: TCP on loopback only. The control service has no token of its own; the
      // Unix socket's file mode or the loopback interface is all that guards it.
      throw new IllegalArgumentException("--listen must be a loopback address (127.0.0.0/8, "
          + "localhost or [::1]), got '" + host + "'");
    }
    return tcp(host, port);
  }

  private static boolean isLoopback(String host) {
    String h = host.startsWith("[") && host.endsWith("]")
        ? host.substring(1, host.length() - 1) : host;
    if (h.equals("localhost")) {
      return true;
    }
    if (!h.matches("[0-9.]+") && !h.contains(":")) {
      return false; // a name: never resolve names to decide where to listen
    }
    try {
      return java.net.InetAddress.getByName(h).isLoopbackAddress();
    } catch (java.net.UnknownHostException e) {
      return false;
    }
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
