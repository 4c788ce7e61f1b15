package io.hintlab.guest.cli;

import java.util.List;
import java.util.Map;

/**
 * A tiny JSON writer for CLI output: maps, lists, strings, numbers, booleans. Lists of numbers
 * stay on one line.
 */
final class JsonOut {
  private JsonOut() {}

  /** Renders {@code value} (Map with String keys, List, String, Number, Boolean, null). */
  static String write(Object value) {
    StringBuilder sb = new StringBuilder();
    write(sb, value, 0);
    return sb.toString();
  }

  private static void write(StringBuilder sb, Object v, int indent) {
    switch (v) {
      case null -> sb.append("null");
      case String s -> quote(sb, s);
      case Double d -> sb.append(d.isNaN() || d.isInfinite() ? "null" : d.toString());
      case Number n -> sb.append(n);
      case Boolean b -> sb.append(b);
      case Map<?, ?> m -> {
        sb.append('{');
        int i = 0;
        for (var e : m.entrySet()) {
          sb.append(i++ == 0 ? "\n" : ",\n").append("  ".repeat(indent + 1));
          quote(sb, String.valueOf(e.getKey()));
          sb.append(": ");
          write(sb, e.getValue(), indent + 1);
        }
        sb.append(m.isEmpty() ? "}" : "\n" + "  ".repeat(indent) + "}");
      }
      case List<?> l when !l.isEmpty() && l.stream().allMatch(e -> e instanceof Number) -> {
        sb.append('[');
        for (int i = 0; i < l.size(); i++) {
          sb.append(i == 0 ? "" : ", ");
          write(sb, l.get(i), indent);
        }
        sb.append(']');
      }
      case List<?> l -> {
        sb.append('[');
        for (int i = 0; i < l.size(); i++) {
          sb.append(i == 0 ? "\n" : ",\n").append("  ".repeat(indent + 1));
          write(sb, l.get(i), indent + 1);
        }
        sb.append(l.isEmpty() ? "]" : "\n" + "  ".repeat(indent) + "]");
      }
      default -> quote(sb, v.toString());
    }
  }

  private static void quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\t' -> sb.append("\\t");
        case '\r' -> sb.append("\\r");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
