package dev.goplugin4j.server.internal.log;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Marker;
import org.slf4j.event.KeyValuePair;
import org.slf4j.event.Level;
import org.slf4j.event.LoggingEvent;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.helpers.NormalizedParameters;
import org.slf4j.spi.LoggingEventAware;
import org.slf4j.spi.MDCAdapter;

/**
 * An SLF4J logger writing hclog JSON lines: the logger name becomes {@code @module}, key-value
 * pairs of the fluent API ({@code log.atInfo().addKeyValue("k", v).log("m")}) and MDC entries
 * become fields, a throwable becomes {@code error} and {@code stacktrace}.
 *
 * <p>Thread-safe.
 */
final class HclogLogger extends LegacyAbstractLogger implements LoggingEventAware {
  private static final long serialVersionUID = 1L;

  private final transient int level;
  private final transient HclogSink sink;
  private final transient MDCAdapter mdc;

  HclogLogger(String name, int level, HclogSink sink, MDCAdapter mdc) {
    this.name = name;
    this.level = level;
    this.sink = sink;
    this.mdc = mdc;
  }

  @Override
  public boolean isTraceEnabled() {
    return level <= HclogSettings.TRACE;
  }

  @Override
  public boolean isDebugEnabled() {
    return level <= HclogSettings.DEBUG;
  }

  @Override
  public boolean isInfoEnabled() {
    return level <= HclogSettings.INFO;
  }

  @Override
  public boolean isWarnEnabled() {
    return level <= HclogSettings.WARN;
  }

  @Override
  public boolean isErrorEnabled() {
    return level <= HclogSettings.ERROR;
  }

  @Override
  protected String getFullyQualifiedCallerName() {
    return null;
  }

  @Override
  protected void handleNormalizedLoggingCall(
      Level lvl, Marker marker, String pattern, Object[] args, Throwable t) {
    emit(lvl, MessageFormatter.basicArrayFormat(pattern, args), List.of(), t, Instant.now());
  }

  @Override
  public void log(LoggingEvent event) {
    if (HclogSettings.of(event.getLevel()) < level) {
      return;
    }
    NormalizedParameters np = NormalizedParameters.normalize(event);
    String message = MessageFormatter.basicArrayFormat(np.getMessage(), np.getArguments());
    List<KeyValuePair> kvs = event.getKeyValuePairs();
    Instant at = event.getTimeStamp() > 0 ? Instant.ofEpochMilli(event.getTimeStamp()) : Instant.now();
    emit(event.getLevel(), message, kvs == null ? List.of() : kvs, np.getThrowable(), at);
  }

  private void emit(Level lvl, String message, List<KeyValuePair> kvs, Throwable t, Instant at) {
    List<Map.Entry<String, Object>> fields = new ArrayList<>(kvs.size() + 2);
    for (KeyValuePair kv : kvs) {
      fields.add(new AbstractMap.SimpleImmutableEntry<>(kv.key, kv.value));
    }
    Map<String, String> context = mdc.getCopyOfContextMap();
    if (context != null) {
      context.forEach((k, v) -> fields.add(new AbstractMap.SimpleImmutableEntry<>(k, v)));
    }
    sink.writeLine(
        HclogFormat.line(
            HclogSettings.hclogName(lvl),
            message,
            name,
            ZonedDateTime.ofInstant(at, ZoneId.systemDefault()),
            fields,
            t));
  }
}
