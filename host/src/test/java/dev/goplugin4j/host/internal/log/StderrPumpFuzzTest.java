package dev.goplugin4j.host.internal.log;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Coverage-guided fuzzing (Jazzer) of {@link StderrPump}'s line splitting, with a small read
 * buffer (16 to 80 bytes) so that long lines, {@code \r\n} across reads and UTF-8 sequences at a
 * chunk boundary are common. For any bytes, arriving in any pieces:
 *
 * <ul>
 *   <li>the pump drains, and its thread ends, within a bound: nothing a plugin writes hangs or
 *       kills it;
 *   <li>the sink sees the text exactly: each line followed by one {@code \n}, a {@code \r} before a
 *       {@code \n} dropped, a last line without terminator ended with {@code \n};
 *   <li>every line is logged (at least one event per line, one per chunk of a split line), and no
 *       event is longer than the buffer: a long line is split, never held whole;
 *   <li>{@link StderrPump#recentLines()} keeps at most {@value StderrPump#RECENT_LINES} lines of at
 *       most {@value StderrPump#RECENT_LINE_MAX_CHARS} chars plus the {@code " [...]"} mark.
 * </ul>
 *
 * <p>Regression inputs: {@code src/test/resources/dev/goplugin4j/host/internal/log/
 * StderrPumpFuzzTestInputs/pump/}. The host module's {@code jazzer-fuzz-stderr} execution fuzzes
 * for {@code maxDuration}; see docs/security.md for the long run.
 */
class StderrPumpFuzzTest {
  private static final Duration BOUND = Duration.ofSeconds(10);

  private static final ch.qos.logback.classic.Logger LOGGER;
  private static final ListAppender<ILoggingEvent> EVENTS = new ListAppender<>();

  static {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    LOGGER = context.getLogger("fuzz.stderr");
    LOGGER.setLevel(Level.TRACE);
    LOGGER.setAdditive(false);
    EVENTS.start();
    LOGGER.addAppender(EVENTS);
  }

  @FuzzTest(maxDuration = "5s")
  void pump(FuzzedDataProvider data) throws Exception {
    int bufferSize = data.consumeInt(StderrPump.MIN_BUFFER_SIZE, 80);
    int readSize = data.consumeInt(1, 100);
    byte[] input = data.consumeRemainingAsBytes();

    EVENTS.list.clear();
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    StderrPump pump = StderrPump.start("fuzz", new Pieces(input, readSize), LOGGER, sink,
        bufferSize);
    try {
      assertThat(pump.awaitDrained(BOUND)).as("drained").isTrue();
    } finally {
      pump.close();
    }
    pump.thread().join(BOUND.toMillis());
    assertThat(pump.thread().isAlive()).as("pump thread ended").isFalse();

    byte[] expected = expectedSink(input);
    byte[] seen = sink.toByteArray();
    assertThat(seen).as("what the sink saw").isEqualTo(expected);

    List<ILoggingEvent> events = List.copyOf(EVENTS.list);
    EVENTS.list.clear();
    assertThat(events.size()).as("events for %d lines", lines(input))
        .isGreaterThanOrEqualTo(lines(input));
    for (ILoggingEvent e : events) {
      assertThat(e.getMessage().length()).as("one event's text").isLessThanOrEqualTo(bufferSize);
    }
    List<String> recent = pump.recentLines();
    assertThat(recent.size()).isLessThanOrEqualTo(StderrPump.RECENT_LINES);
    for (String r : recent) {
      assertThat(r.length()).isLessThanOrEqualTo(StderrPump.RECENT_LINE_MAX_CHARS + 6);
    }
  }

  /** Lines end at \n; a \r before it goes; a last unterminated line gets a \n. */
  static byte[] expectedSink(byte[] input) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int start = 0;
    for (int i = 0; i < input.length; i++) {
      if (input[i] == '\n') {
        int end = i > start && input[i - 1] == '\r' ? i - 1 : i;
        out.write(input, start, end - start);
        out.write('\n');
        start = i + 1;
      }
    }
    if (start < input.length) {
      out.write(input, start, input.length - start);
      out.write('\n');
    }
    return out.toByteArray();
  }

  /** How many lines the input has (a last line without terminator counts). */
  static int lines(byte[] input) {
    int n = 0;
    for (byte b : input) {
      if (b == '\n') {
        n++;
      }
    }
    return input.length > 0 && input[input.length - 1] != '\n' ? n + 1 : n;
  }

  /** Hands out the input at most {@code max} bytes per read, as a pipe does. */
  private static final class Pieces extends InputStream {
    private final byte[] input;
    private final int max;
    private int pos;

    Pieces(byte[] input, int max) {
      this.input = input;
      this.max = max;
    }

    @Override
    public int read() {
      return pos < input.length ? input[pos++] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (pos >= input.length) {
        return -1;
      }
      int n = Math.min(Math.min(len, max), input.length - pos);
      System.arraycopy(input, pos, b, off, n);
      pos += n;
      return n;
    }
  }
}
