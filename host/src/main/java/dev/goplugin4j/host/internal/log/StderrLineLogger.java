package dev.goplugin4j.host.internal.log;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.event.Level;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * Decides the level and shape of the log event for each stderr line, following go-plugin's
 * {@code Client.logStderr}:
 *
 * <ul>
 *   <li>a JSON object with a known {@code @level} becomes an event at that level with {@code
 *       @message} as message and the other keys as key-values; the fields are also appended to
 *       the message in hclog's text style ({@code plugin tls init: error="..."}, see {@link
 *       HclogText}), so that any log pattern shows them; with an unknown or missing level the raw
 *       line is logged at debug;
 *   <li>a plain line starting with {@code [TRACE]}, {@code [DEBUG]}, {@code [INFO]}, {@code
 *       [WARN]} or {@code [ERROR]} is logged, as it is, at that level;
 *   <li>a line starting with {@code panic: } or {@code fatal error: } is an error and switches to
 *       panic mode, where every later untagged plain line is an error too (a Go stack trace);
 *   <li>any other plain line is logged at debug.
 * </ul>
 *
 * <p>The chunks of a line longer than the read buffer cannot be parsed as JSON; upstream logs them
 * at debug, we log them all at the level the first chunk would have as a plain line, so a long
 * {@code [ERROR]} line or a long line of a stack trace stays an error.
 *
 * <p>Not thread-safe: confined to the pump's thread, which owns the panic state.
 */
final class StderrLineLogger {
  private final Logger logger;
  /** Receives whole lines (first chunks of long ones) at WARN and ERROR; null for none. */
  private final BiConsumer<Level, String> warnLines;
  private boolean inPanic;
  /** The level of the line whose chunks are being logged, or null between lines. */
  private Level continuationLevel;

  StderrLineLogger(Logger logger) {
    this(logger, null);
  }

  StderrLineLogger(Logger logger, BiConsumer<Level, String> warnLines) {
    this.logger = logger;
    this.warnLines = warnLines;
  }

  /**
   * Logs one line, or one chunk of a long line.
   *
   * @param text the line without its line terminator
   * @param isPrefix whether more chunks of the same line follow
   */
  void log(String text, boolean isPrefix) {
    if (continuationLevel != null && !isPrefix && text.isEmpty()) {
      // The line's last chunk was a "\r" held back from the previous chunk: nothing to log.
      continuationLevel = null;
      return;
    }
    if (isPrefix || continuationLevel != null) {
      Level level = continuationLevel != null ? continuationLevel : plainLevel(text);
      if (continuationLevel == null) {
        notify(level, text);
      }
      logger.atLevel(level).log(text);
      continuationLevel = isPrefix ? level : null;
      return;
    }
    if (!logger.isErrorEnabled() && warnLines == null) {
      return; // nothing can be logged: spare the parsing, as upstream does for a disabled logger
    }
    Optional<HclogJson.Entry> json = HclogJson.parse(text);
    if (json.isEmpty()) {
      Level level = plainLevel(text);
      notify(level, text);
      logger.atLevel(level).log(text);
      return;
    }
    HclogJson.Entry entry = json.get();
    Level level = hclogLevel(entry.level());
    if (level == null) {
      // Probably JSON from something other than hclog: keep it verbatim, as upstream does.
      logger.atDebug().log(text);
      return;
    }
    boolean enabled = logger.isEnabledForLevel(level);
    if (!enabled && (warnLines == null || (level != Level.WARN && level != Level.ERROR))) {
      return;
    }
    // the fields in the message too, hclog style: "%msg" alone shows the plugin's error
    String message = HclogText.render(entry.message(), entry.fields());
    notify(level, message);
    if (!enabled) {
      return;
    }
    LoggingEventBuilder event = logger.atLevel(level);
    for (Map.Entry<String, Object> field : entry.fields()) {
      event = event.addKeyValue(field.getKey(), field.getValue());
    }
    event.log(message);
  }

  private void notify(Level level, String message) {
    if (warnLines != null && (level == Level.WARN || level == Level.ERROR)) {
      try {
        warnLines.accept(level, message);
      } catch (RuntimeException e) {
        // the events layer isolates listeners; this only guards the pump against a bug there
      }
    }
  }

  private Level plainLevel(String line) {
    if (line.startsWith("[TRACE]")) {
      return Level.TRACE;
    } else if (line.startsWith("[DEBUG]")) {
      return Level.DEBUG;
    } else if (line.startsWith("[INFO]")) {
      return Level.INFO;
    } else if (line.startsWith("[WARN]")) {
      return Level.WARN;
    } else if (line.startsWith("[ERROR]")) {
      return Level.ERROR;
    } else if (line.startsWith("panic: ") || line.startsWith("fatal error: ")) {
      inPanic = true;
      return Level.ERROR;
    } else if (inPanic) {
      return Level.ERROR;
    }
    return Level.DEBUG;
  }

  /** hclog's {@code LevelFromString}; null for what upstream calls NoLevel (and for "off"). */
  private static Level hclogLevel(String level) {
    if (level == null) {
      return null;
    }
    switch (level.strip().toLowerCase(Locale.ROOT)) {
      case "trace":
        return Level.TRACE;
      case "debug":
        return Level.DEBUG;
      case "info":
        return Level.INFO;
      case "warn":
        return Level.WARN;
      case "error":
        return Level.ERROR;
      default:
        return null;
    }
  }
}
