package dev.goplugin4j.benchmarks;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * docs/startup.md's recipe item 3 for the {@code *_recipe} variants of {@link FreshJvm}: logback
 * configured in code, the benchmarks' {@code logback.xml} (root at WARN, one console appender on
 * {@code System.err}, the same pattern) without its XML: no XML parser, no Joran. logback finds
 * this class as a {@link Configurator} service before it looks for {@code logback.xml}; it acts
 * only when the JVM has {@value #PROPERTY}{@code =true} (the recipe variants), otherwise it hands
 * over to logback's default, the XML file, as before. Logback creates one instance per logger
 * context; not for use by other code.
 */
public final class FreshLogging extends ContextAwareBase implements Configurator {
  /** The system property that selects this configuration: {@code true} or absent. */
  static final String PROPERTY = "goplugin4j.bench.codeLogging";

  /** For logback's service loader. */
  public FreshLogging() {}

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (!Boolean.getBoolean(PROPERTY)) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern("%d{HH:mm:ss.SSS} %-5level %logger{36} - %msg%n");
    encoder.start();
    ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
    stderr.setContext(context);
    stderr.setName("STDERR");
    stderr.setTarget("System.err");
    stderr.setEncoder(encoder);
    stderr.start();
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.WARN);
    root.addAppender(stderr);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }
}
