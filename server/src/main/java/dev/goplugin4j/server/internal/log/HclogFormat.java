package dev.goplugin4j.server.internal.log;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.ZonedDateTime;
import java.util.Locale;
import java.util.Map;

/**
 * Formats one hclog JSON line, as go-hclog's JSON format writes it and go-plugin's host parses it:
 * {@code @level}, {@code @message}, {@code @module}, {@code @timestamp} (Go layout {@code
 * 2006-01-02T15:04:05.000000Z07:00}), then the extra fields. A go-plugin host requires
 * {@code @message} and {@code @level} to be strings and the timestamp to parse with that layout;
 * anything else turns the whole line into a plain debug message.
 */
public final class HclogFormat {
  private HclogFormat() {}

  /**
   * Go's {@code 2006-01-02T15:04:05.000000Z07:00}: microseconds, "Z" for UTC, else {@code
   * +hh:mm}. Written by hand: {@code DateTimeFormatter} loads java.time.format's ~70 classes into
   * the start of every plugin that logs a line.
   */
  static String timestamp(ZonedDateTime t) {
    StringBuilder sb = new StringBuilder(32);
    timestamp(sb, t);
    return sb.toString();
  }

  private static void timestamp(StringBuilder sb, ZonedDateTime t) {
    digits(sb, t.getYear(), 4);
    sb.append('-');
    digits(sb, t.getMonthValue(), 2);
    sb.append('-');
    digits(sb, t.getDayOfMonth(), 2);
    sb.append('T');
    digits(sb, t.getHour(), 2);
    sb.append(':');
    digits(sb, t.getMinute(), 2);
    sb.append(':');
    digits(sb, t.getSecond(), 2);
    sb.append('.');
    digits(sb, t.getNano() / 1000, 6);
    int offset = t.getOffset().getTotalSeconds();
    if (offset == 0) {
      sb.append('Z');
      return;
    }
    sb.append(offset < 0 ? '-' : '+');
    int minutes = Math.abs(offset) / 60;
    digits(sb, minutes / 60, 2);
    sb.append(':');
    digits(sb, minutes % 60, 2);
  }

  private static void digits(StringBuilder sb, int value, int width) {
    String s = Integer.toString(value);
    for (int i = s.length(); i < width; i++) {
      sb.append('0');
    }
    sb.append(s);
  }

  /**
   * One JSON object, without the trailing newline.
   *
   * @param level hclog level name (trace, debug, info, warn, error)
   * @param message the formatted message
   * @param module the logger name, or null to omit {@code @module}
   * @param time the event time
   * @param fields extra fields in order; values become JSON numbers, booleans, null or strings
   * @param error a throwable, written as {@code error} (its toString) and {@code stacktrace}
   */
  public static String line(
      String level,
      String message,
      String module,
      ZonedDateTime time,
      Iterable<Map.Entry<String, Object>> fields,
      Throwable error) {
    StringBuilder sb = new StringBuilder(128);
    sb.append("{\"@level\":");
    string(sb, level);
    sb.append(",\"@message\":");
    string(sb, message == null ? "" : message);
    if (module != null && !module.isEmpty()) {
      sb.append(",\"@module\":");
      string(sb, module);
    }
    sb.append(",\"@timestamp\":\"");
    timestamp(sb, time);
    sb.append('"');
    if (fields != null) {
      for (Map.Entry<String, Object> e : fields) {
        if (e.getKey() == null || e.getKey().startsWith("@")) {
          continue;
        }
        sb.append(',');
        string(sb, e.getKey());
        sb.append(':');
        value(sb, e.getValue());
      }
    }
    if (error != null) {
      sb.append(",\"error\":");
      string(sb, String.valueOf(error));
      StringWriter trace = new StringWriter();
      error.printStackTrace(new PrintWriter(trace));
      sb.append(",\"stacktrace\":");
      string(sb, trace.toString().stripTrailing());
    }
    return sb.append('}').toString();
  }

  private static void value(StringBuilder sb, Object v) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof Boolean
        || v instanceof Integer
        || v instanceof Long
        || v instanceof Short
        || v instanceof Byte) {
      sb.append(v);
    } else if ((v instanceof Double d && Double.isFinite(d))
        || (v instanceof Float f && Float.isFinite(f))) {
      sb.append(v);
    } else {
      string(sb, String.valueOf(v));
    }
  }

  /** Appends {@code s} as a JSON string. */
  static void string(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20 || c == '\u2028' || c == '\u2029') {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
