package dev.goplugin4j.examples.plugins;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Marker;
import org.slf4j.event.KeyValuePair;
import org.slf4j.event.Level;
import org.slf4j.event.LoggingEvent;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.spi.LoggingEventAware;

/** An SLF4J logger that records every event, with its key-values, for assertions. */
final class RecordingLogger extends LegacyAbstractLogger implements LoggingEventAware {
  private static final long serialVersionUID = 1L;

  /** One recorded event. */
  record Event(Level level, String message, Map<String, Object> fields) {}

  private final transient List<Event> events = new CopyOnWriteArrayList<>();

  RecordingLogger(String name) {
    this.name = name;
  }

  List<Event> events() {
    return List.copyOf(events);
  }

  @Override
  public boolean isTraceEnabled() {
    return true;
  }

  @Override
  public boolean isDebugEnabled() {
    return true;
  }

  @Override
  public boolean isInfoEnabled() {
    return true;
  }

  @Override
  public boolean isWarnEnabled() {
    return true;
  }

  @Override
  public boolean isErrorEnabled() {
    return true;
  }

  @Override
  protected String getFullyQualifiedCallerName() {
    return null;
  }

  @Override
  protected void handleNormalizedLoggingCall(
      Level level, Marker marker, String pattern, Object[] args, Throwable t) {
    events.add(new Event(level, MessageFormatter.basicArrayFormat(pattern, args), Map.of()));
  }

  @Override
  public void log(LoggingEvent e) {
    Map<String, Object> fields = new LinkedHashMap<>();
    if (e.getKeyValuePairs() != null) {
      for (KeyValuePair kv : e.getKeyValuePairs()) {
        fields.put(kv.key, kv.value);
      }
    }
    events.add(new Event(e.getLevel(),
        MessageFormatter.basicArrayFormat(e.getMessage(), e.getArgumentArray()), fields));
  }
}
