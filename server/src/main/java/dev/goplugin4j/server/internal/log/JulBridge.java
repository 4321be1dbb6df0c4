package dev.goplugin4j.server.internal.log;

import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * Routes java.util.logging (used by grpc-java) into the hclog provider, so its warnings reach a
 * go-plugin host as hclog lines instead of two-line plain text (or, after the server redirected
 * {@code System.err}, through {@code plugin.GRPCStdio}). Installed only when the hclog provider is
 * SLF4J's provider; otherwise java.util.logging is left alone.
 */
public final class JulBridge extends Handler {
  private final ILoggerFactory factory;

  private JulBridge(ILoggerFactory factory) {
    this.factory = factory;
  }

  /**
   * Replaces the root java.util.logging handlers with the bridge, if the hclog provider is in use.
   *
   * @return true if installed
   */
  public static boolean installIfHclog() {
    ILoggerFactory f = LoggerFactory.getILoggerFactory();
    if (!(f instanceof HclogLoggerFactory)) {
      return false;
    }
    Logger root = LogManager.getLogManager().getLogger("");
    for (Handler h : root.getHandlers()) {
      root.removeHandler(h);
    }
    root.addHandler(new JulBridge(f));
    org.slf4j.Logger probe = f.getLogger("io.grpc");
    root.setLevel(
        probe.isTraceEnabled()
            ? Level.FINEST
            : probe.isDebugEnabled() ? Level.FINE : probe.isInfoEnabled() ? Level.INFO : Level.WARNING);
    return true;
  }

  /**
   * Whether SLF4J's active provider is the hclog provider.
   *
   * @return true if SLF4J loggers write hclog lines to the real stderr
   */
  public static boolean hclogActive() {
    return LoggerFactory.getILoggerFactory() instanceof HclogLoggerFactory;
  }

  @Override
  public void publish(LogRecord r) {
    if (r == null) {
      return;
    }
    org.slf4j.Logger l = factory.getLogger(r.getLoggerName() == null ? "jul" : r.getLoggerName());
    int v = r.getLevel().intValue();
    String msg = format(r);
    Throwable t = r.getThrown();
    if (v >= Level.SEVERE.intValue()) {
      l.error(msg, t);
    } else if (v >= Level.WARNING.intValue()) {
      l.warn(msg, t);
    } else if (v >= Level.INFO.intValue()) {
      l.info(msg, t);
    } else if (v >= Level.FINE.intValue()) {
      l.debug(msg, t);
    } else {
      l.trace(msg, t);
    }
  }

  private static String format(LogRecord r) {
    String m = r.getMessage();
    Object[] p = r.getParameters();
    if (m == null || p == null || p.length == 0) {
      return m;
    }
    try {
      return java.text.MessageFormat.format(m, p);
    } catch (IllegalArgumentException e) {
      return m;
    }
  }

  @Override
  public void flush() {}

  @Override
  public void close() {}
}
