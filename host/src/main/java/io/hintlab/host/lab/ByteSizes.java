package io.hintlab.host.lab;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Memory sizes as the lab's options take them and its tables print them. The grammar is the one
 * {@code guest run --memory} accepts (the host never links the guest, so it has its own parser):
 * bytes, or a number with a binary unit K, M, G, T or KiB, MiB, GiB, TiB in any case. Decimal
 * units (GB...) are refused rather than guessed.
 */
public final class ByteSizes {
  private static final Pattern SIZE =
      Pattern.compile("(\\d{1,19})\\s*(?:([kmgt])(?:ib)?|(b))?", Pattern.CASE_INSENSITIVE);
  private static final double MIB = 1 << 20;

  private ByteSizes() {}

  /**
   * Parses a size of zero or more bytes.
   *
   * @param text e.g. {@code 1G}, {@code 512MiB}, {@code 4096}
   * @return bytes
   * @throws IllegalArgumentException saying what is wrong with the text
   */
  public static long parse(String text) {
    Matcher m = SIZE.matcher(text == null ? "" : text.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException("'" + text + "' is not a size (examples: 1G, 512M, "
          + "1GiB, 2048MiB, 1073741824)");
    }
    long n;
    try {
      n = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is too large", e);
    }
    int shift = m.group(2) == null ? 0 : switch (m.group(2).toLowerCase(Locale.ROOT)) {
      case "k" -> 10;
      case "m" -> 20;
      case "g" -> 30;
      default -> 40;
    };
    if (n != 0 && Long.numberOfLeadingZeros(n) <= shift) {
      throw new IllegalArgumentException("'" + text + "' is too large");
    }
    return n << shift;
  }

  /**
   * Formats bytes in MiB with one decimal ({@code 315.4 MiB}), or GiB from 10 GiB on.
   *
   * @param bytes a non-negative count
   * @return the text
   */
  public static String human(long bytes) {
    double mib = bytes / MIB;
    if (mib >= 10 * 1024) {
      return String.format(Locale.ROOT, "%.1f GiB", mib / 1024);
    }
    return String.format(Locale.ROOT, "%.1f MiB", mib);
  }

  /**
   * The largest binary unit that divides {@code bytes} ({@code 1G}, {@code 512M}, {@code 4096}),
   * a form {@link #parse} and {@code guest run --memory} read back exactly.
   *
   * @param bytes a non-negative count
   * @return the text
   */
  public static String exact(long bytes) {
    String[] units = {"T", "G", "M", "K"};
    int[] shifts = {40, 30, 20, 10};
    for (int i = 0; i < units.length; i++) {
      if (bytes >= 1L << shifts[i] && bytes % (1L << shifts[i]) == 0) {
        return (bytes >> shifts[i]) + units[i];
      }
    }
    return Long.toString(bytes);
  }
}
