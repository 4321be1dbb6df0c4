package dev.goplugin4j.server.internal.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.helpers.BasicMDCAdapter;

class HclogLoggerTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  private Logger logger(String name, String level) {
    Properties p = new Properties();
    p.setProperty(HclogSettings.LEVEL_PROPERTY, level);
    HclogLoggerFactory f =
        new HclogLoggerFactory(HclogSettings.fromEnvironment(p, Map.of()), new HclogSink(out), new BasicMDCAdapter());
    return f.getLogger(name);
  }

  private List<String> lines() {
    return out.toString(StandardCharsets.UTF_8).lines().toList();
  }

  @Test
  void writesOneHclogJsonLinePerEventWithLevelMessageModuleAndTimestamp() {
    logger("com.example.Kv", "info").info("stored {} bytes", 42);
    assertThat(lines()).hasSize(1);
    String line = lines().get(0);
    assertThat(line)
        .startsWith("{\"@level\":\"info\",\"@message\":\"stored 42 bytes\",\"@module\":\"com.example.Kv\",\"@timestamp\":\"")
        .endsWith("\"}");
  }

  @Test
  void timestampUsesGoLayoutWithMicrosecondsAndZoneOffset() {
    ZonedDateTime utc = ZonedDateTime.of(2026, 11, 29, 18, 4, 5, 123_456_789, ZoneOffset.UTC);
    assertThat(HclogFormat.timestamp(utc)).isEqualTo("2026-11-29T18:04:05.123456Z");
    ZonedDateTime plus = utc.withZoneSameInstant(ZoneOffset.ofHours(2));
    assertThat(HclogFormat.timestamp(plus)).isEqualTo("2026-11-29T20:04:05.123456+02:00");
    // the same text parses back with the layout's Java equivalent
    assertThat(ZonedDateTime.parse("2026-11-29T20:04:05.123456+02:00", DateTimeFormatter.ISO_OFFSET_DATE_TIME)
        .toInstant()).isEqualTo(utc.toInstant().minusNanos(789));
    ZonedDateTime minus = ZonedDateTime.of(2026, 1, 2, 3, 4, 5, 0, ZoneOffset.ofHoursMinutes(-9, -30));
    assertThat(HclogFormat.timestamp(minus)).isEqualTo("2026-01-02T03:04:05.000000-09:30");
  }

  @Test
  void levelsBelowTheThresholdAreDroppedAndNamesMatchHclog() {
    Logger l = logger("x", "warn");
    l.info("no");
    l.debug("no");
    l.warn("w");
    l.error("e");
    assertThat(lines()).hasSize(2);
    assertThat(lines().get(0)).contains("\"@level\":\"warn\"");
    assertThat(lines().get(1)).contains("\"@level\":\"error\"");
  }

  @Test
  void traceLevelEnablesEverything() {
    Logger l = logger("x", "trace");
    l.trace("t");
    l.debug("d");
    assertThat(lines()).hasSize(2);
    assertThat(lines().get(0)).contains("\"@level\":\"trace\"");
  }

  @Test
  void keyValuesOfTheFluentApiBecomeFieldsWithJsonTypes() {
    logger("x", "info").atInfo().addKeyValue("key", "hello").addKeyValue("count", 3)
        .addKeyValue("ok", true).log("put");
    assertThat(lines().get(0)).contains("\"key\":\"hello\",\"count\":3,\"ok\":true");
  }

  @Test
  void throwablesBecomeErrorAndStacktraceFieldsOnOneLine() {
    logger("x", "info").error("failed", new IllegalStateException("boom\nsecond line"));
    assertThat(lines()).hasSize(1);
    assertThat(lines().get(0))
        .contains("\"error\":\"java.lang.IllegalStateException: boom\\nsecond line\"")
        .contains("\"stacktrace\":\"java.lang.IllegalStateException");
  }

  @Test
  void messagesAreJsonEscaped() {
    logger("x", "info").info("quote \" backslash \\ tab \t bell \u0007");
    assertThat(lines().get(0)).contains("\"@message\":\"quote \\\" backslash \\\\ tab \\t bell \\u0007\"");
  }

  @Test
  void longestLoggerPrefixDecidesTheLevel() {
    Properties p = new Properties();
    p.setProperty(HclogSettings.LEVEL_PROPERTY, "info");
    p.setProperty(HclogSettings.LEVEL_PROPERTY + ".io.grpc", "error");
    p.setProperty(HclogSettings.LEVEL_PROPERTY + ".io.grpc.netty", "debug");
    HclogSettings s = HclogSettings.fromEnvironment(p, Map.of());
    assertThat(s.levelOf("io.grpc.Server")).isEqualTo(HclogSettings.ERROR);
    assertThat(s.levelOf("io.grpc.netty.Foo")).isEqualTo(HclogSettings.DEBUG);
    assertThat(s.levelOf("com.example")).isEqualTo(HclogSettings.INFO);
  }

  @Test
  void environmentVariableSetsTheLevelWhenNoPropertyDoes() {
    HclogSettings s = HclogSettings.fromEnvironment(new Properties(), Map.of(HclogSettings.LEVEL_ENV, "DEBUG"));
    assertThat(s.levelOf("any")).isEqualTo(HclogSettings.DEBUG);
    assertThat(HclogSettings.fromEnvironment(new Properties(), Map.of()).levelOf("any"))
        .isEqualTo(HclogSettings.INFO);
  }
}
