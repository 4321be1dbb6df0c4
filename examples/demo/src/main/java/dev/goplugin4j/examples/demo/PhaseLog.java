package dev.goplugin4j.examples.demo;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;

/**
 * A logback appender that keeps the start-phase lines goplugin4j logs at DEBUG (the container
 * runner's "started container ... (engine ..., image check ..., create ..., start ...)" and the
 * client's "plugin ... start phases (ms): ..."), so the demo can print where its start went.
 * Configured in the demo's logback.xml. Thread-safe (logback serialises {@link #append}; readers
 * take a copy under the same lock).
 */
public final class PhaseLog extends AppenderBase<ILoggingEvent> {
  private static final List<String> LINES = new ArrayList<>();

  /** Creates the appender (logback does). */
  public PhaseLog() {}

  @Override
  protected void append(ILoggingEvent e) {
    String m = e.getFormattedMessage();
    if (m.contains("start phases") || m.startsWith("started container")) {
      synchronized (LINES) {
        LINES.add(m);
      }
    }
  }

  /**
   * The phase lines kept so far, oldest first.
   *
   * @return a copy; empty when logback is not the SLF4J binding or the appender is not configured
   */
  static List<String> lines() {
    synchronized (LINES) {
      return new ArrayList<>(LINES);
    }
  }
}
