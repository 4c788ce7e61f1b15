package io.hintlab.guest.transport;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the guest finds its host: a Unix domain socket ({@code unix:PATH}, the default) or TCP on
 * loopback ({@code HOST:PORT}). Open a channel to it with {@link GuestChannel#open}.
 *
 * <p>TCP is refused unless the host is a loopback address: the device protocol has no transport
 * security, and DESIGN section 5 keeps TCP on loopback. Names other than {@code localhost} are
 * refused without being resolved.
 *
 * @param kind which transport
 * @param path the socket path (UNIX), else empty
 * @param host the TCP host as given (brackets kept for IPv6), else empty
 * @param port the TCP port in [1, 65535], else 0
 */
public record GuestAddress(Kind kind, String path, String host, int port) {
  /**
   * The longest Unix socket path in bytes: {@code sun_path} holds 108 bytes including the
   * terminating NUL (Linux include/uapi/linux/un.h, UNIX_PATH_MAX).
   */
  public static final int MAX_UNIX_PATH_BYTES = 107;

  private static final Pattern IPV4 =
      Pattern.compile("([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})");

  private static final String USAGE = "--host wants unix:PATH or HOST:PORT on loopback"
      + " (e.g. unix:/run/user/1000/hintlab/host.sock or 127.0.0.1:7070)";

  /** Transport kinds. */
  public enum Kind {
    /** A Unix domain socket (epoll). */
    UNIX,
    /** TCP on a loopback address (NIO). */
    TCP
  }

  /**
   * A Unix socket address.
   *
   * @param socket the socket path
   * @return the address
   * @throws IllegalArgumentException if the path is empty or longer than sun_path allows
   */
  public static GuestAddress unix(Path socket) {
    String p = socket.toString();
    if (p.isEmpty()) {
      throw new IllegalArgumentException("unix: needs a socket path, e.g. unix:/tmp/host.sock");
    }
    int bytes = p.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_UNIX_PATH_BYTES) {
      throw new IllegalArgumentException("unix socket path is " + bytes + " bytes, longer than the "
          + MAX_UNIX_PATH_BYTES + " sun_path allows: " + p);
    }
    return new GuestAddress(Kind.UNIX, p, "", 0);
  }

  /**
   * Parses {@code unix:PATH} ({@code unix:///abs/path} also works, as in gRPC targets) or
   * {@code HOST:PORT} with HOST one of 127.0.0.0/8, {@code localhost} or {@code [::1]}.
   *
   * @param s the address as the user wrote it
   * @return the address
   * @throws IllegalArgumentException naming what is wrong
   */
  public static GuestAddress parse(String s) {
    if (s == null || s.isBlank()) {
      throw new IllegalArgumentException(USAGE + ", got nothing");
    }
    if (s.startsWith("unix:")) {
      String p = s.substring("unix:".length());
      if (p.startsWith("//")) {
        p = p.substring(2);
        if (!p.startsWith("/")) {
          throw new IllegalArgumentException("unix:// wants an absolute path (unix:///tmp/h.sock)"
              + ", got '" + s + "'");
        }
      }
      return unix(Path.of(p));
    }
    int colon = s.lastIndexOf(':');
    if (colon <= 0 || colon == s.length() - 1) {
      throw new IllegalArgumentException(USAGE + ", got '" + s + "'");
    }
    String host = s.substring(0, colon);
    int port;
    try {
      port = Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("port is not a number in '" + s + "'");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port must be in [1, 65535], got " + port + " in '"
          + s + "'");
    }
    boolean bracketed = host.startsWith("[") && host.endsWith("]");
    if (host.contains(":") && !bracketed) {
      throw new IllegalArgumentException("an IPv6 host needs brackets, e.g. [::1]:7070, got '"
          + s + "'");
    }
    if (!isLoopback(bracketed ? host.substring(1, host.length() - 1) : host)) {
      // DESIGN section 5: no transport security, so TCP stays on loopback.
      throw new IllegalArgumentException("TCP must stay on loopback (127.0.0.0/8, localhost or"
          + " [::1]): the device protocol has no transport security; got '" + host + "'");
    }
    return new GuestAddress(Kind.TCP, "", host, port);
  }

  private static boolean isLoopback(String h) {
    if (h.equals("localhost")) {
      return true;
    }
    Matcher v4 = IPV4.matcher(h);
    if (v4.matches()) {
      for (int i = 1; i <= 4; i++) {
        if (Integer.parseInt(v4.group(i)) > 255) {
          return false;
        }
      }
      return Integer.parseInt(v4.group(1)) == 127;
    }
    if (!h.contains(":")) {
      return false; // a name: never resolved to decide where the guest's memory goes
    }
    try {
      return InetAddress.getByName(h).isLoopbackAddress(); // an IPv6 literal: no lookup
    } catch (UnknownHostException e) {
      return false; // a malformed literal
    }
  }

  /**
   * The host name without IPv6 brackets, for socket addresses.
   *
   * @return the host
   */
  String bareHost() {
    return host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
  }

  @Override
  public String toString() {
    return switch (kind) {
      case UNIX -> "unix:" + path;
      case TCP -> host + ":" + port;
    };
  }
}
