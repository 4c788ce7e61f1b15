package io.hintlab.guest.cli;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * Memory sizes on the command line: a number of bytes, or a number with a binary unit: K, M, G, T
 * or KiB, MiB, GiB, TiB (any case), so {@code 1G}, {@code 512M}, {@code 1GiB}, {@code 2048MiB} and
 * {@code 1073741824} are all accepted. Decimal units (GB...) are refused rather than guessed.
 */
final class Sizes {
  private static final Pattern SIZE =
      Pattern.compile("(\\d{1,19})\\s*(?:([kmgt])(?:ib)?|(b))?", Pattern.CASE_INSENSITIVE);

  private Sizes() {}

  /**
   * Parses a size.
   *
   * @throws IllegalArgumentException naming the text when it is not a positive size
   */
  static long parse(String text) {
    String t = text == null ? "" : text.strip();
    Matcher m = SIZE.matcher(t);
    if (!m.matches()) {
      throw new IllegalArgumentException("'" + text + "' is not a size (examples: 1G, 512M, "
          + "1GiB, 2048MiB, 1073741824)");
    }
    long n;
    try {
      n = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is too large");
    }
    int shift = m.group(2) == null ? 0 : switch (m.group(2).toLowerCase(Locale.ROOT)) {
      case "k" -> 10;
      case "m" -> 20;
      case "g" -> 30;
      default -> 40;
    };
    if (n == 0) {
      throw new IllegalArgumentException("'" + text + "' is not a positive size");
    }
    if (Long.numberOfLeadingZeros(n) <= shift) {
      throw new IllegalArgumentException("'" + text + "' is too large");
    }
    return n << shift;
  }

  /** Formats bytes in the largest binary unit that divides them (1G, 512M, 4096). */
  static String format(long bytes) {
    String[] units = {"T", "G", "M", "K"};
    int[] shifts = {40, 30, 20, 10};
    for (int i = 0; i < units.length; i++) {
      if (bytes >= 1L << shifts[i] && bytes % (1L << shifts[i]) == 0) {
        return (bytes >> shifts[i]) + units[i];
      }
    }
    return Long.toString(bytes);
  }

  /** Picocli converter: a bad size becomes a parameter error naming the option. */
  static final class Converter implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
