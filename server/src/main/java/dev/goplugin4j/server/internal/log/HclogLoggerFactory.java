package dev.goplugin4j.server.internal.log;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;
import org.slf4j.spi.MDCAdapter;

/** Makes and caches {@link HclogLogger}s. Thread-safe. */
public final class HclogLoggerFactory implements ILoggerFactory {
  private final ConcurrentMap<String, Logger> loggers = new ConcurrentHashMap<>();
  private final HclogSettings settings;
  private final HclogSink sink;
  private final MDCAdapter mdc;

  HclogLoggerFactory(HclogSettings settings, HclogSink sink, MDCAdapter mdc) {
    this.settings = settings;
    this.sink = sink;
    this.mdc = mdc;
  }

  @Override
  public Logger getLogger(String name) {
    return loggers.computeIfAbsent(
        name, n -> new HclogLogger(n, settings.levelOf(n), sink, mdc));
  }

  /**
   * The sink every logger of this factory writes to.
   *
   * @return the sink
   */
  public HclogSink sink() {
    return sink;
  }
}
