package io.hintlab.host.lab;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The JSON object {@code guest run --json} printed at its end, as read by the pair. The pair
 * depends only on the keys it names here; every other key is carried through as it came, so
 * options and fields the guest gains later reach the pair's JSON without a change here.
 *
 * @param fields every key of the object, numbers as Long where integral
 */
public record GuestReport(Map<String, Object> fields) {

  /** Copies the map, keeping the guest's key order. */
  public GuestReport {
    fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
  }

  /**
   * Reads the guest's stdout file.
   *
   * @param file where the guest's stdout went
   * @return the report, or empty when the file holds no JSON object (the guest died first)
   * @throws IOException if the file cannot be read
   */
  public static Optional<GuestReport> read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    return parse(Files.readString(file, StandardCharsets.UTF_8));
  }

  /**
   * Parses the guest's stdout: one JSON object.
   *
   * @param text the stdout
   * @return the report, or empty when the text is not one complete JSON object
   */
  public static Optional<GuestReport> parse(String text) {
    if (text.isBlank()) {
      return Optional.empty();
    }
    try {
      JsonElement e = JsonParser.parseString(text);
      if (!e.isJsonObject()) {
        return Optional.empty();
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> m = (Map<String, Object>) toJava(e);
      return Optional.of(new GuestReport(m));
    } catch (JsonParseException ex) {
      return Optional.empty(); // a guest killed while printing leaves half an object
    }
  }

  private static Object toJava(JsonElement e) {
    if (e.isJsonObject()) {
      Map<String, Object> m = new LinkedHashMap<>();
      for (var entry : ((JsonObject) e).entrySet()) {
        m.put(entry.getKey(), toJava(entry.getValue()));
      }
      return m;
    }
    if (e.isJsonArray()) {
      List<Object> l = new ArrayList<>();
      e.getAsJsonArray().forEach(x -> l.add(toJava(x)));
      return l;
    }
    if (e.isJsonNull()) {
      return null;
    }
    JsonPrimitive p = e.getAsJsonPrimitive();
    if (p.isBoolean()) {
      return p.getAsBoolean();
    }
    if (p.isNumber()) {
      BigDecimal d = p.getAsBigDecimal();
      try {
        // integral counters stay exact longs; the JSON writer would print a double as 1.0E9
        return d.longValueExact();
      } catch (ArithmeticException fractionalOrHuge) {
        return d.doubleValue();
      }
    }
    return p.getAsString();
  }

  /**
   * A numeric field.
   *
   * @param key the guest's key, e.g. {@code lost_writes}
   * @return the value
   * @throws IllegalStateException if the guest did not print it as a number
   */
  public long number(String key) {
    if (fields.get(key) instanceof Number n) {
      return n.longValue();
    }
    throw new IllegalStateException("the guest's JSON has no number '" + key + "': " + fields);
  }

  /**
   * A numeric field, or {@code fallback} when the guest did not print it.
   *
   * @param key the guest's key
   * @param fallback the value to use instead
   * @return the value
   */
  public long number(String key, long fallback) {
    return fields.get(key) instanceof Number n ? n.longValue() : fallback;
  }

  /**
   * The guest's failure line ({@code failure}), empty when it has none.
   *
   * @return the text
   */
  public String failure() {
    return fields.get("failure") instanceof String s ? s : "";
  }
}
