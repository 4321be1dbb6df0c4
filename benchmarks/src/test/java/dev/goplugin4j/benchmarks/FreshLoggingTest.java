package dev.goplugin4j.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.core.ConsoleAppender;
import org.junit.jupiter.api.Test;

class FreshLoggingTest {
  @Test
  void configuresWarnOnStderrInCodeOnlyWhenTheVariantAsks() {
    LoggerContext plain = new LoggerContext();
    assertThat(new FreshLogging().configure(plain)).isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
    assertThat(plain.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext()).isFalse();

    LoggerContext code = new LoggerContext();
    System.setProperty(FreshLogging.PROPERTY, "true");
    try {
      assertThat(new FreshLogging().configure(code))
          .isEqualTo(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
    } finally {
      System.clearProperty(FreshLogging.PROPERTY);
    }
    Logger root = code.getLogger(Logger.ROOT_LOGGER_NAME);
    assertThat(root.getLevel()).isEqualTo(Level.WARN);
    assertThat(root.getAppender("STDERR")).isInstanceOfSatisfying(ConsoleAppender.class, a -> {
      assertThat(a.getTarget()).isEqualTo("System.err");
      assertThat(a.isStarted()).isTrue();
    });
    code.stop();
  }
}
