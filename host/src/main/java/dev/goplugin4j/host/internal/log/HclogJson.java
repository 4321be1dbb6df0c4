package dev.goplugin4j.host.internal.log;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Parses the JSON lines hclog writes when a plugin logs in JSON format, as go-plugin's {@code
 * parseJSON} does: an object whose {@code @message}, {@code @level} and {@code @timestamp} keys
 * are special and whose other keys are fields. Stateless and thread-safe.
 */
final class HclogJson {
  static final String MESSAGE = "@message";
  static final String LEVEL = "@level";
  static final String TIMESTAMP = "@timestamp";

  /**
   * hclog writes {@code 2006-01-02T15:04:05.000000Z07:00}; the ISO parser accepts that and any
   * other number of fraction digits, which costs nothing and keeps odd writers structured.
   */
  private static final DateTimeFormatter TIMESTAMP_FORMAT = DateTimeFormatter.ISO_OFFSET_DATE_TIME;

  private HclogJson() {}

  /**
   * One parsed line.
   *
   * @param message the {@code @message}, empty when absent
   * @param level the {@code @level} as written, or null when absent
   * @param fields every other key in document order, {@code @timestamp} included (as written)
   */
  record Entry(String message, String level, List<Map.Entry<String, Object>> fields) {}

  /**
   * Parses a line.
   *
   * @param line one complete stderr line
   * @return the entry, or empty when the line is not a JSON object (go-plugin then treats it as
   *     plain text), or when a special key has the wrong type or an unparsable timestamp
   */
  static Optional<Entry> parse(String line) {
    if (!looksLikeObject(line)) {
      return Optional.empty();
    }
    JsonObject object;
    try {
      JsonReader reader = new JsonReader(new StringReader(line));
      reader.setStrictness(Strictness.STRICT);
      JsonElement element = JsonParser.parseReader(reader);
      if (!element.isJsonObject() || reader.peek() != JsonToken.END_DOCUMENT) {
        return Optional.empty();
      }
      object = element.getAsJsonObject();
    } catch (JsonParseException | IOException | IllegalStateException e) {
      return Optional.empty();
    }
    String message = "";
    String level = null;
    List<Map.Entry<String, Object>> fields = new ArrayList<>(object.size());
    for (Map.Entry<String, JsonElement> e : object.entrySet()) {
      String key = e.getKey();
      JsonElement value = e.getValue();
      switch (key) {
        case MESSAGE:
          if (!isString(value)) {
            return Optional.empty();
          }
          message = value.getAsString();
          break;
        case LEVEL:
          if (!isString(value)) {
            return Optional.empty();
          }
          level = value.getAsString();
          break;
        case TIMESTAMP:
          if (!isString(value) || !isTimestamp(value.getAsString())) {
            return Optional.empty();
          }
          fields.add(new SimpleImmutableEntry<>(key, value.getAsString()));
          break;
        default:
          fields.add(new SimpleImmutableEntry<>(key, toJava(value)));
      }
    }
    return Optional.of(new Entry(message, level, Collections.unmodifiableList(fields)));
  }

  private static boolean looksLikeObject(String line) {
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
        return c == '{';
      }
    }
    return false;
  }

  private static boolean isString(JsonElement value) {
    return value.isJsonPrimitive() && value.getAsJsonPrimitive().isString();
  }

  private static boolean isTimestamp(String text) {
    try {
      TIMESTAMP_FORMAT.parse(text);
      return true;
    } catch (DateTimeParseException e) {
      return false;
    }
  }

  /** Strings, numbers and booleans become Java values; objects and arrays stay JSON text. */
  private static Object toJava(JsonElement value) {
    if (value.isJsonNull()) {
      return null;
    }
    if (value.isJsonPrimitive()) {
      JsonPrimitive p = value.getAsJsonPrimitive();
      if (p.isBoolean()) {
        return p.getAsBoolean();
      }
      if (p.isNumber()) {
        return p.getAsNumber();
      }
      return p.getAsString();
    }
    return value.toString();
  }
}
