package dev.goplugin4j.host.internal.log;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.LoggerFactory;

/**
 * Coverage-guided fuzzing (Jazzer) of how a plugin's stderr lines are read: {@link
 * HclogJson#parse(String)} (hclog's JSON lines) and {@link StderrLineLogger#log(String, boolean)}
 * (levels, panic mode, chunks of long lines). For any line:
 *
 * <ul>
 *   <li>neither throws anything (a plugin's stderr must never stop the pump);
 *   <li>an accepted line is a JSON object: its first non-blank character is {@code '{'}, its
 *       {@code @message} and {@code @level} are the object's strings, every other key is a field,
 *       in document order, none of them special but {@code @timestamp};
 *   <li>an accepted entry round trips: written back as a JSON object (message, level, fields),
 *       it parses to the same entry;
 *   <li>the line logger logs each complete line as exactly one event, and each chunk of a split
 *       line as one event whose message is the chunk.
 * </ul>
 *
 * <p>Regression inputs: {@code src/test/resources/dev/goplugin4j/host/internal/log/
 * HclogLineFuzzTestInputs/line/}. The host module's {@code jazzer-fuzz-hclog} execution fuzzes for
 * {@code maxDuration}; see docs/security.md for the long run.
 */
class HclogLineFuzzTest {
  private static final ch.qos.logback.classic.Logger LOGGER;
  private static final ListAppender<ILoggingEvent> EVENTS = new ListAppender<>();

  static {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    LOGGER = context.getLogger("fuzz.hclog");
    LOGGER.setLevel(Level.TRACE);
    LOGGER.setAdditive(false);
    EVENTS.start();
    LOGGER.addAppender(EVENTS);
  }

  @FuzzTest(maxDuration = "5s")
  void line(FuzzedDataProvider data) {
    boolean asChunks = data.consumeBoolean();
    String line = data.consumeRemainingAsString();

    Optional<HclogJson.Entry> entry = HclogJson.parse(line);
    entry.ifPresent(e -> checkEntry(line, e));

    EVENTS.list.clear();
    StderrLineLogger logger = new StderrLineLogger(LOGGER);
    if (asChunks && line.length() > 1) {
      int mid = line.length() / 2;
      String first = line.substring(0, mid);
      String rest = line.substring(mid);
      logger.log(first, true);
      logger.log(rest, false);
      List<ILoggingEvent> events = List.copyOf(EVENTS.list);
      assertThat(events).as("one event per chunk").hasSize(2);
      assertThat(events.get(0).getMessage()).isEqualTo(first);
      assertThat(events.get(1).getMessage()).isEqualTo(rest);
      assertThat(events.get(1).getLevel()).as("a line's chunks share one level")
          .isEqualTo(events.get(0).getLevel());
    } else {
      logger.log(line, false);
      assertThat(EVENTS.list).as("one event per line").hasSize(1);
    }
    EVENTS.list.clear();
  }

  private static void checkEntry(String line, HclogJson.Entry e) {
    assertThat(line.strip()).startsWith("{");
    JsonObject object = JsonParser.parseString(line).getAsJsonObject();
    assertThat(e.message()).isEqualTo(
        object.has(HclogJson.MESSAGE) ? object.get(HclogJson.MESSAGE).getAsString() : "");
    assertThat(e.level()).isEqualTo(
        object.has(HclogJson.LEVEL) ? object.get(HclogJson.LEVEL).getAsString() : null);
    List<String> keys = object.keySet().stream()
        .filter(k -> !k.equals(HclogJson.MESSAGE) && !k.equals(HclogJson.LEVEL))
        .toList();
    assertThat(e.fields().stream().map(Map.Entry::getKey).toList())
        .as("fields: every other key, in document order").isEqualTo(keys);

    HclogJson.Entry again = HclogJson.parse(write(e)).orElseThrow(
        () -> new AssertionError("entry written back is not accepted: " + write(e)));
    assertThat(again.message()).isEqualTo(e.message());
    assertThat(again.level()).isEqualTo(e.level());
    assertThat(again.fields()).hasSameSizeAs(e.fields());
    for (int i = 0; i < e.fields().size(); i++) {
      assertThat(again.fields().get(i).getKey()).isEqualTo(e.fields().get(i).getKey());
      assertThat(String.valueOf(again.fields().get(i).getValue()))
          .isEqualTo(String.valueOf(e.fields().get(i).getValue()));
    }
  }

  /** An entry as hclog would write it: objects and arrays (kept as JSON text) become strings. */
  private static String write(HclogJson.Entry e) {
    JsonObject o = new JsonObject();
    o.addProperty(HclogJson.MESSAGE, e.message());
    if (e.level() != null) {
      o.addProperty(HclogJson.LEVEL, e.level());
    }
    for (Map.Entry<String, Object> f : e.fields()) {
      Object v = f.getValue();
      if (v == null) {
        o.add(f.getKey(), com.google.gson.JsonNull.INSTANCE);
      } else if (v instanceof Boolean b) {
        o.addProperty(f.getKey(), b);
      } else if (v instanceof Number n) {
        o.addProperty(f.getKey(), n);
      } else {
        o.addProperty(f.getKey(), v.toString());
      }
    }
    return o.toString();
  }
}
