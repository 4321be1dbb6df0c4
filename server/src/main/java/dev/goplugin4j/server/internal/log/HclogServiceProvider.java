package dev.goplugin4j.server.internal.log;

import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.helpers.BasicMDCAdapter;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The SLF4J 2 provider the server jar registers: every logger writes hclog JSON lines to the real
 * stderr (see {@link HclogSink}), so a go-plugin host logs them with their levels and fields.
 * Levels: see {@link HclogSettings}. To use another SLF4J backend instead, set the system property
 * {@code slf4j.provider} to its provider class.
 */
public final class HclogServiceProvider implements SLF4JServiceProvider {
  private volatile HclogLoggerFactory loggerFactory;
  private final IMarkerFactory markerFactory = new BasicMarkerFactory();
  private final MDCAdapter mdc = new BasicMDCAdapter();

  /** Called by SLF4J's service loader. */
  public HclogServiceProvider() {}

  @Override
  public ILoggerFactory getLoggerFactory() {
    return loggerFactory;
  }

  @Override
  public IMarkerFactory getMarkerFactory() {
    return markerFactory;
  }

  @Override
  public MDCAdapter getMDCAdapter() {
    return mdc;
  }

  @Override
  public String getRequestedApiVersion() {
    return "2.0.99";
  }

  @Override
  public void initialize() {
    loggerFactory =
        new HclogLoggerFactory(
            HclogSettings.fromEnvironment(System.getProperties(), System.getenv()),
            HclogSink.stderr(),
            mdc);
  }
}
