package dev.goplugin4j.host.internal.log;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

/** A plugin's hclog fields are in the message text, so a usual log pattern shows them. */
class HclogTextTest {
  private ch.qos.logback.classic.Logger logger;
  private ListAppender<ILoggingEvent> appender;
  private PatternLayout usualPattern;

  @BeforeEach
  void captureLogs(TestInfo test) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    logger = context.getLogger("test.hclogtext." + test.getTestMethod().orElseThrow().getName());
    logger.setLevel(Level.TRACE);
    logger.setAdditive(false);
    appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    usualPattern = new PatternLayout();
    usualPattern.setContext(context);
    usualPattern.setPattern("%-5level %logger{0} - %msg");
    usualPattern.start();
  }

  @AfterEach
  void detach() {
    logger.detachAppender(appender);
    usualPattern.stop();
  }

  private ILoggingEvent logOne(String jsonLine) {
    new StderrLineLogger(logger).log(jsonLine, false);
    assertThat(appender.list).hasSize(1);
    return appender.list.get(0);
  }

  @Test
  void aPluginsErrorFieldIsShownByAUsualPatternAndStaysAKeyValuePair() {
    ILoggingEvent e = logOne("{\"@level\":\"error\",\"@message\":\"plugin tls init\","
        + "\"@module\":\"plugin\",\"@timestamp\":\"2024-05-01T10:11:12.123456Z\","
        + "\"error\":\"open /certs/key.pem: permission denied\"}");

    assertThat(usualPattern.doLayout(e)).isEqualTo(
        "ERROR " + logger.getName().substring(logger.getName().lastIndexOf('.') + 1)
            + " - plugin tls init: error=\"open /certs/key.pem: permission denied\"");
    Map<String, Object> kv = e.getKeyValuePairs().stream()
        .collect(Collectors.toMap(p -> p.key, p -> p.value));
    assertThat(kv).containsEntry("error", "open /certs/key.pem: permission denied")
        .containsEntry("@module", "plugin")
        .containsKey("@timestamp");
  }

  @Test
  void valuesAreWrittenInHclogsTextStyle() {
    ILoggingEvent e = logOne("{\"@level\":\"info\",\"@message\":\"served\",\"path\":\"/kv/a\","
        + "\"n\":3,\"ratio\":0.5,\"ok\":false,\"none\":null,\"empty\":\"\",\"eq\":\"a=b\","
        + "\"q\":\"say \\\"hi\\\"\",\"nl\":\"a\\nb\\u0001\",\"obj\":{\"a\":[1,\"x\"]}}");

    assertThat(e.getFormattedMessage()).isEqualTo("served: path=/kv/a n=3 ratio=0.5 ok=false"
        + " none=null empty=\"\" eq=\"a=b\" q=\"say \\\"hi\\\"\" nl=\"a\\nb\\x01\""
        + " obj={\"a\":[1,\"x\"]}");
  }

  @Test
  void onlyHclogsOwnKeysLeaveTheMessageAsItIs() {
    ILoggingEvent e = logOne("{\"@level\":\"warn\",\"@message\":\"disk low\",\"@module\":\"kv\","
        + "\"@caller\":\"main.go:12\"}");

    assertThat(e.getFormattedMessage()).isEqualTo("disk low");
    assertThat(e.getKeyValuePairs()).extracting(p -> p.key).containsExactly("@module", "@caller");
  }

  @Test
  void anEmptyMessageShowsJustTheFields() {
    assertThat(logOne("{\"@level\":\"info\",\"@message\":\"\",\"k\":\"v\"}").getFormattedMessage())
        .isEqualTo("k=v");
  }

  @Test
  void braceMarkersInTheMessageOrFieldsAreNotFormatted() {
    assertThat(logOne("{\"@level\":\"info\",\"@message\":\"a {} b\",\"k\":\"{}\"}")
        .getFormattedMessage()).isEqualTo("a {} b: k={}");
  }

  @Test
  void theAppendedTextIsBoundedAndSaysSo() {
    String big = "x".repeat(5000);
    ILoggingEvent e = logOne("{\"@level\":\"error\",\"@message\":\"boom\",\"error\":\"" + big
        + "\",\"more\":\"" + big + "\"}");

    String m = e.getFormattedMessage();
    assertThat(m).startsWith("boom: error=" + "x".repeat(100))
        .contains("… (fields cut at " + HclogText.MAX_FIELDS_CHARS + " of about")
        .contains("every field is in the event's key-value pairs");
    assertThat(m.length()).isLessThan("boom: ".length() + HclogText.MAX_FIELDS_CHARS + 120);
    List<KeyValuePair> kv = new ArrayList<>(e.getKeyValuePairs());
    assertThat(kv).extracting(p -> p.value).containsExactly(big, big);
  }

  @Test
  void theCutNeverSplitsASurrogatePair() {
    List<Map.Entry<String, Object>> fields = List.of(
        new SimpleImmutableEntry<>("k", "a".repeat(HclogText.MAX_FIELDS_CHARS - 3) + "😀😀😀"));

    String m = HclogText.render("m", fields);
    String kept = m.substring(0, m.indexOf('…'));
    assertThat(Character.isHighSurrogate(kept.charAt(kept.length() - 1))).isFalse();
  }

  @Test
  void theTextIsNeverLongerThanTheJsonItCameFrom() {
    String[] lines = {
        "{\"k\":[\"\",\"\",\"\",\"\",\"\",\"\"],\"@level\":\"info\"}",
        "{\"@level\":\"info\",\"a\":\"\\u0001\\u0002\",\"b\":\"\\\"\\\\\"}",
        "{\"@level\":\"info\",\"@message\":\"\",\"e\":\"\",\"f\":null}",
    };
    for (String line : lines) {
      HclogJson.Entry entry = HclogJson.parse(line).orElseThrow();
      assertThat(HclogText.render(entry.message(), entry.fields()).length())
          .as(line).isLessThanOrEqualTo(line.length());
    }
  }
}
