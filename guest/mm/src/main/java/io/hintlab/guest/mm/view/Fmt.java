package io.hintlab.guest.mm.view;

import io.hintlab.guest.mm.Zone;

/**
 * The few printf conversions the views need, written out so that the output does not depend on
 * the default locale: {@code %Ns}, {@code %-Ns} and {@code %Nlu}/{@code %Nd}.
 */
final class Fmt {
  /** The only node of the model. */
  static final int NODE_ID = 0;

  private Fmt() {}

  /** {@code %<width>s}: s right-aligned in width (never truncated). */
  static StringBuilder right(StringBuilder sb, String s, int width) {
    for (int i = s.length(); i < width; i++) {
      sb.append(' ');
    }
    return sb.append(s);
  }

  /** {@code %<width>lu} / {@code %<width>d}: v right-aligned in width. */
  static StringBuilder right(StringBuilder sb, long v, int width) {
    return right(sb, Long.toString(v), width);
  }

  /** {@code %-<width>s}: s left-aligned in width (never truncated). */
  static StringBuilder left(StringBuilder sb, String s, int width) {
    sb.append(s);
    for (int i = s.length(); i < width; i++) {
      sb.append(' ');
    }
    return sb;
  }

  /** {@code "Node %d, zone %8s"}, the prefix every per-zone line starts with. */
  static StringBuilder nodeZone(StringBuilder sb, Zone z) {
    sb.append("Node ").append(NODE_ID).append(", zone ");
    return right(sb, z.name(), 8);
  }
}
