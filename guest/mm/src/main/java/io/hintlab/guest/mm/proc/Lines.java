package io.hintlab.guest.mm.proc;

import java.util.List;

/**
 * The lines of one input with its source name, for error messages of the form {@code
 * source:line: message}. Lines are read with trailing whitespace stripped, so that the kernel's
 * trailing spaces and an editor's stripping of them parse alike.
 */
final class Lines {
  private final List<String> lines;
  private final String source;

  Lines(List<String> lines, String source) {
    if (lines == null || source == null) {
      throw new IllegalArgumentException("lines and source must not be null");
    }
    this.lines = List.copyOf(lines);
    this.source = source;
  }

  /** Number of lines. */
  int size() {
    return lines.size();
  }

  /** Line idx (0-based) with trailing whitespace stripped. */
  String get(int idx) {
    return lines.get(idx).stripTrailing();
  }

  /** Whether idx is past the last line. */
  boolean atEnd(int idx) {
    return idx >= lines.size();
  }

  /** Whether every line from idx on is blank (trailing blank lines are tolerated). */
  boolean onlyBlankFrom(int idx) {
    for (int i = idx; i < lines.size(); i++) {
      if (!get(i).isEmpty()) {
        return false;
      }
    }
    return true;
  }

  /** An error at line idx (0-based; printed 1-based). */
  IllegalArgumentException error(int idx, String message) {
    return new IllegalArgumentException(source + ":" + (idx + 1) + ": " + message);
  }

  /** What a line is, for messages: the quoted line, or "the end of the input". */
  String describe(int idx) {
    if (atEnd(idx)) {
      return "the end of the input";
    }
    String l = get(idx);
    return l.isEmpty() ? "a blank line" : "'" + l + "'";
  }

  /**
   * Parses an unsigned decimal number.
   *
   * @param what what the number is, for the message ("a count for order 3 after 'type Movable'")
   */
  long number(int idx, String token, String what) {
    if (!isDigits(token)) {
      throw error(idx, "expected " + what + ", got '" + token + "'");
    }
    try {
      return Long.parseLong(token);
    } catch (NumberFormatException e) {
      throw error(idx, "expected " + what + ", got '" + token + "' (too large)");
    }
  }

  static boolean isDigits(String s) {
    if (s.isEmpty()) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  /** {@code %<width>s}: s right-aligned in width, never truncated (locale-independent). */
  static StringBuilder right(StringBuilder sb, String s, int width) {
    for (int i = s.length(); i < width; i++) {
      sb.append(' ');
    }
    return sb.append(s);
  }

  /** {@code %-<width>s}: s left-aligned in width, never truncated. */
  static StringBuilder left(StringBuilder sb, String s, int width) {
    sb.append(s);
    for (int i = s.length(); i < width; i++) {
      sb.append(' ');
    }
    return sb;
  }

  /** Splits on runs of spaces; an all-blank string gives no tokens. */
  static String[] tokens(String s) {
    String t = s.strip();
    return t.isEmpty() ? new String[0] : t.split(" +");
  }
}
