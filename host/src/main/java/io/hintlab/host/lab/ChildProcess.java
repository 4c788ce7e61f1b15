package io.hintlab.host.lab;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;

/**
 * One child process of the lab (a {@code host serve} or a {@code guest run}), with its stderr
 * (and stdout, unless it has a file of its own) appended to a log file that error messages name.
 *
 * <p>Every wait is bounded: {@link #stop(Duration)} asks politely (SIGTERM via
 * {@link Process#destroy()}), waits, then destroys forcibly and waits again. {@link
 * #checkAlive()} turns an unexpected exit into an {@link IllegalStateException} naming the
 * process, its exit code, the log file and the last lines of the log.
 */
public final class ChildProcess implements AutoCloseable {

  /** How many log lines an error message quotes. */
  static final int TAIL_LINES = 10;

  private final String name;
  private final Process process;
  private final Path log;

  private ChildProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  /**
   * Starts {@code command} with stdout and stderr appended to {@code log}; stdin stays a pipe so
   * the lab can close it to tell the child to finish.
   *
   * @param name the name used in error messages, e.g. "host" or "guest"
   * @throws IOException if the process cannot be started
   */
  public static ChildProcess start(String name, List<String> command, Path log)
      throws IOException {
    if (command.isEmpty()) {
      throw new IllegalArgumentException("empty command for " + name);
    }
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    Process p = pb.start();
    return new ChildProcess(name, p, log);
  }

  /**
   * Starts {@code command} with its stderr appended to {@code log} and its stdout written to
   * {@code stdout} alone, so a result the child prints (e.g. {@code guest run --json}) is never
   * mixed with its log lines; stdin stays a pipe as in {@link #start(String, List, Path)}.
   *
   * @param name the name used in error messages, e.g. "host" or "guest"
   * @param stdout the file receiving the child's stdout (truncated first)
   * @throws IOException if the process cannot be started
   */
  public static ChildProcess start(String name, List<String> command, Path log, Path stdout)
      throws IOException {
    if (command.isEmpty()) {
      throw new IllegalArgumentException("empty command for " + name);
    }
    if (stdout.equals(log)) {
      throw new IllegalArgumentException("stdout and log of " + name + " must differ: " + log);
    }
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.redirectOutput(ProcessBuilder.Redirect.to(stdout.toFile()));
    Process p = pb.start();
    return new ChildProcess(name, p, log);
  }

  /** The name used in error messages. */
  public String name() {
    return name;
  }

  /** The log file holding the child's stdout and stderr. */
  public Path log() {
    return log;
  }

  /** Whether the child is still running. */
  public boolean isAlive() {
    return process.isAlive();
  }

  /** The child's pid. */
  public long pid() {
    return process.pid();
  }

  /**
   * Throws if the child has exited.
   *
   * @throws IllegalStateException naming the process, exit code, log file and last log lines
   */
  public void checkAlive() {
    if (!process.isAlive()) {
      throw new IllegalStateException(deathMessage());
    }
  }

  /**
   * The exit code, if the child has exited.
   *
   * @return the code, or empty while it runs
   */
  public OptionalInt exitCode() {
    return process.isAlive() ? OptionalInt.empty()
        : OptionalInt.of(process.exitValue());
  }

  /** Message describing the child's exit, with the tail of its log. */
  public String deathMessage() {
    String code = process.isAlive() ? "still running" : "exit code " + process.exitValue();
    StringBuilder sb =
        new StringBuilder(name).append(" process died (").append(code).append("); log ")
            .append(log);
    List<String> tail = tail(log, TAIL_LINES);
    if (!tail.isEmpty()) {
      sb.append(", last lines:");
      for (String l : tail) {
        sb.append("\n  ").append(l);
      }
    }
    return sb.toString();
  }

  /** Closes the child's stdin (the signal for {@code guest run} to detach and exit). */
  public void closeStdin() {
    try {
      process.getOutputStream().close();
    } catch (IOException e) {
      // the child already exited and its pipe is gone: nothing to signal
    }
  }

  /**
   * Waits up to {@code timeout} for the child to exit by itself.
   *
   * @return the exit code, or -1 if it is still running
   */
  public int waitFor(Duration timeout) throws InterruptedException {
    if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      return process.exitValue();
    }
    return -1;
  }

  /**
   * Stops the child: SIGTERM, wait {@code grace}, then SIGKILL and wait {@code grace} again.
   *
   * @return the exit code, or -1 if it survived both (never expected on Linux)
   */
  public int stop(Duration grace) throws InterruptedException {
    if (!process.isAlive()) {
      return process.exitValue();
    }
    process.destroy();
    if (process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
      return process.exitValue();
    }
    process.destroyForcibly();
    if (process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
      return process.exitValue();
    }
    return -1;
  }

  /** Stops with a 5 s grace period, restoring the interrupt flag if interrupted. */
  @Override
  public void close() {
    try {
      stop(Duration.ofSeconds(5));
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /** The last {@code n} lines of {@code file}, reading at most its last 64 KiB. */
  static List<String> tail(Path file, int n) {
    if (!Files.isRegularFile(file)) {
      return List.of();
    }
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
      long len = raf.length();
      int chunk = (int) Math.min(len, 64 * 1024);
      byte[] buf = new byte[chunk];
      raf.seek(len - chunk);
      raf.readFully(buf);
      String[] lines = new String(buf, StandardCharsets.UTF_8).split("\n");
      Deque<String> out = new ArrayDeque<>();
      for (int i = lines.length - 1; i >= 0 && out.size() < n; i--) {
        if (!lines[i].isBlank()) {
          out.addFirst(lines[i]);
        }
      }
      return List.copyOf(out);
    } catch (IOException e) {
      return List.of("(log unreadable: " + e.getMessage() + ")");
    }
  }
}
