package io.hintlab.host.lab;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Command lines of the lab's child processes. The host module never links against the guest:
 * it spawns {@code java -cp $HINTLAB_GUEST_CLASSPATH io.hintlab.guest.cli.GuestMain run ...}
 * (the {@code ./hintlab} launcher exports HINTLAB_JAVA, HINTLAB_GUEST_CLASSPATH and
 * HINTLAB_HOST_CLASSPATH; integration tests pass their own java.class.path).
 *
 * @param java the java executable
 * @param hostClasspath class path holding io.hintlab.host.cli.HostMain
 * @param guestClasspath class path holding io.hintlab.guest.cli.GuestMain
 */
public record LabCommands(String java, String hostClasspath, String guestClasspath) {

  /** Main class of the host side. */
  public static final String HOST_MAIN = "io.hintlab.host.cli.HostMain";

  /** Main class of the guest side. */
  public static final String GUEST_MAIN = "io.hintlab.guest.cli.GuestMain";

  /** Validates the three parts. */
  public LabCommands {
    requireNonBlank(java, "java executable");
    requireNonBlank(hostClasspath, "host class path");
    requireNonBlank(guestClasspath, "guest class path");
  }

  /**
   * Reads the launcher's environment variables.
   *
   * @throws IllegalArgumentException naming the first missing variable
   */
  public static LabCommands fromEnvironment(Map<String, String> env) {
    return new LabCommands(
        required(env, "HINTLAB_JAVA"),
        required(env, "HINTLAB_HOST_CLASSPATH"),
        required(env, "HINTLAB_GUEST_CLASSPATH"));
  }

  /** {@code java ... HostMain host serve <args>}. */
  public List<String> hostServe(List<String> args) {
    return command(hostClasspath, HOST_MAIN, "host", "serve", args);
  }

  /**
   * {@code java ... GuestMain run --stop-on-stdin-eof <args>}: closing the child's stdin asks it to
   * finish (free, check, detach, print its summary).
   */
  public List<String> guestRun(List<String> args) {
    List<String> a = new ArrayList<>(args.size() + 1);
    a.add("--stop-on-stdin-eof");
    a.addAll(args);
    return command(guestClasspath, GUEST_MAIN, "run", null, a);
  }

  private List<String> command(
      String cp, String main, String word1, String word2, List<String> args) {
    List<String> c = new ArrayList<>();
    c.add(java);
    // FFM punch-hole and memfd need native access; without the flag the JVM warns on stderr
    c.add("--enable-native-access=ALL-UNNAMED");
    c.add("-cp");
    c.add(cp);
    c.add(main);
    c.add(word1);
    if (word2 != null) {
      c.add(word2);
    }
    c.addAll(args);
    return List.copyOf(c);
  }

  private static String required(Map<String, String> env, String name) {
    String v = env.get(name);
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException(
          name + " is not set (run through ./hintlab, which exports it)");
    }
    return v;
  }

  private static void requireNonBlank(String v, String what) {
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException(what + " must not be blank");
    }
  }
}
