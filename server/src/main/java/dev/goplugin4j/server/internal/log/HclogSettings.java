package dev.goplugin4j.server.internal.log;

import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.slf4j.event.Level;

/**
 * Log levels of the hclog provider, read once at start-up:
 *
 * <ul>
 *   <li>{@value #LEVEL_PROPERTY} (system property) or {@value #LEVEL_ENV} (environment): the
 *       level of every logger: {@code trace}, {@code debug}, {@code info} (default), {@code
 *       warn}, {@code error} or {@code off};
 *   <li>{@code goplugin4j.log.level.<logger name prefix>}: a level for loggers whose name starts
 *       with the prefix (longest prefix wins), e.g. {@code -Dgoplugin4j.log.level.io.grpc=warn}.
 * </ul>
 *
 * <p>Immutable and thread-safe.
 */
final class HclogSettings {
  static final String LEVEL_PROPERTY = "goplugin4j.log.level";
  static final String LEVEL_ENV = "GOPLUGIN4J_LOG_LEVEL";

  /** Levels as ints: lower is more verbose; OFF above ERROR. */
  static final int TRACE = 0;
  static final int DEBUG = 1;
  static final int INFO = 2;
  static final int WARN = 3;
  static final int ERROR = 4;
  static final int OFF = 5;

  private final int rootLevel;
  /** Prefix → level, longest prefix first when iterated in reverse. */
  private final TreeMap<String, Integer> prefixes;

  HclogSettings(int rootLevel, Map<String, Integer> prefixes) {
    this.rootLevel = rootLevel;
    this.prefixes = new TreeMap<>(prefixes);
  }

  static HclogSettings fromEnvironment(Properties props, Map<String, String> env) {
    String root = props.getProperty(LEVEL_PROPERTY);
    if (root == null || root.isBlank()) {
      root = env.get(LEVEL_ENV);
    }
    int rootLevel = parse(root, INFO);
    Map<String, Integer> prefixes = new TreeMap<>();
    String p = LEVEL_PROPERTY + ".";
    for (String key : props.stringPropertyNames()) {
      if (key.startsWith(p) && key.length() > p.length()) {
        prefixes.put(key.substring(p.length()), parse(props.getProperty(key), rootLevel));
      }
    }
    return new HclogSettings(rootLevel, prefixes);
  }

  /** The effective level of a logger. */
  int levelOf(String loggerName) {
    String best = null;
    for (String prefix : prefixes.keySet()) {
      if (loggerName.startsWith(prefix) && (best == null || prefix.length() > best.length())) {
        best = prefix;
      }
    }
    return best == null ? rootLevel : prefixes.get(best);
  }

  static int parse(String name, int fallback) {
    if (name == null || name.isBlank()) {
      return fallback;
    }
    switch (name.strip().toLowerCase(Locale.ROOT)) {
      case "trace":
        return TRACE;
      case "debug":
        return DEBUG;
      case "info":
        return INFO;
      case "warn":
      case "warning":
        return WARN;
      case "error":
        return ERROR;
      case "off":
        return OFF;
      default:
        return fallback;
    }
  }

  static int of(Level level) {
    return switch (level) {
      case TRACE -> TRACE;
      case DEBUG -> DEBUG;
      case INFO -> INFO;
      case WARN -> WARN;
      case ERROR -> ERROR;
    };
  }

  /** The hclog name of a level. */
  static String hclogName(Level level) {
    return switch (level) {
      case TRACE -> "trace";
      case DEBUG -> "debug";
      case INFO -> "info";
      case WARN -> "warn";
      case ERROR -> "error";
    };
  }
}
