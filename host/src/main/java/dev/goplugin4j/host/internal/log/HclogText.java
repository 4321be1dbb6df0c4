package dev.goplugin4j.host.internal.log;

import java.util.List;
import java.util.Map;

/**
 * Renders an hclog JSON entry's message with its fields in hclog's own text style, {@code
 * message: key=value key="quoted value"}, so that a plain {@code %msg} log pattern shows a
 * plugin's {@code error} and other fields, which SLF4J 2 key-value pairs alone do not (logback
 * prints those only with {@code %kvp}). Stateless and thread-safe.
 *
 * <ul>
 *   <li>hclog's own keys, those starting with {@code @} ({@code @timestamp}, {@code @module},
 *       {@code @caller}), are left out: the logging backend has its own time and logger name;
 *   <li>a string value is written as it is, or in double quotes when it is empty or holds a
 *       space, a {@code =}, a {@code "}, a backslash or a control character; inside quotes
 *       {@code "} and backslash are escaped and control characters written as {@code \n}, {@code
 *       \r}, {@code \t} or {@code \xNN}, never more characters than JSON needed for them, so the
 *       text is never longer than the JSON line it came from;
 *   <li>numbers and booleans as written, JSON {@code null} as {@code null}, objects and arrays as
 *       compact JSON without quotes (and so is a string that starts and ends like one);
 *   <li>the fields' text is cut after {@value #MAX_FIELDS_CHARS} characters, with a note of how
 *       many were left out (the key-value pairs keep every field whole).
 * </ul>
 */
final class HclogText {
  /** Longest text appended for the fields, before the note of what was cut. */
  static final int MAX_FIELDS_CHARS = 1024;

  private HclogText() {}

  /**
   * The message followed by the entry's fields.
   *
   * @param message the hclog {@code @message}; may be empty
   * @param fields the entry's other keys, in document order
   * @return {@code message}, or {@code message: k=v ...} when there are fields to show, or just
   *     {@code k=v ...} for an empty message
   */
  static String render(String message, List<Map.Entry<String, Object>> fields) {
    StringBuilder f = new StringBuilder();
    for (Map.Entry<String, Object> field : fields) {
      String key = field.getKey();
      if (key.startsWith("@")) {
        continue;
      }
      if (f.length() > 0) {
        f.append(' ');
      }
      escape(f, key);
      f.append('=');
      value(f, field.getValue());
      if (f.length() > MAX_FIELDS_CHARS) {
        break; // enough: the rest is cut below anyway
      }
    }
    if (f.length() == 0) {
      return message;
    }
    String text = f.length() > MAX_FIELDS_CHARS ? cut(f, fieldsLength(fields)) : f.toString();
    return message.isEmpty() ? text : message + ": " + text;
  }

  private static void value(StringBuilder out, Object value) {
    if (!(value instanceof String)) {
      out.append(value); // Number, Boolean, null, or compact JSON of an object or array
      return;
    }
    String s = (String) value;
    if (!needsQuotes(s) || looksLikeJson(s)) {
      out.append(s);
      return;
    }
    out.append('"');
    escape(out, s);
    out.append('"');
  }

  /**
   * Objects and arrays reach us as their compact JSON text (see {@link HclogJson}); they are
   * written as they are, as is a string that looks the same, which reads as well unquoted.
   */
  private static boolean looksLikeJson(String s) {
    if (s.length() < 2) {
      return false;
    }
    char first = s.charAt(0);
    char last = s.charAt(s.length() - 1);
    if (!((first == '{' && last == '}') || (first == '[' && last == ']'))) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < ' ') {
        return false;
      }
    }
    return true;
  }

  private static boolean needsQuotes(String s) {
    if (s.isEmpty()) {
      return true;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c <= ' ' || c == '=' || c == '"' || c == '\\') {
        return true;
      }
    }
    return false;
  }

  /** Escapes what JSON had to escape (quote, backslash, control characters), nothing more. */
  private static void escape(StringBuilder out, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"':
          out.append("\\\"");
          break;
        case '\\':
          out.append("\\\\");
          break;
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        case '\t':
          out.append("\\t");
          break;
        default:
          if (c < ' ') {
            out.append("\\x").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xf, 16));
          } else {
            out.append(c);
          }
      }
    }
  }

  /** The first {@link #MAX_FIELDS_CHARS} characters (not splitting a surrogate pair) and a note. */
  private static String cut(StringBuilder f, long total) {
    int end = MAX_FIELDS_CHARS;
    if (Character.isHighSurrogate(f.charAt(end - 1))) {
      end--;
    }
    return f.substring(0, end) + "… (fields cut at " + MAX_FIELDS_CHARS + " of about " + total
        + " characters; every field is in the event's key-value pairs)";
  }

  /** About how long the fields' text would be, for the note; the exact figure does not matter. */
  private static long fieldsLength(List<Map.Entry<String, Object>> fields) {
    long n = 0;
    for (Map.Entry<String, Object> field : fields) {
      if (!field.getKey().startsWith("@")) {
        n += field.getKey().length() + 2 + String.valueOf(field.getValue()).length();
      }
    }
    return n;
  }
}
