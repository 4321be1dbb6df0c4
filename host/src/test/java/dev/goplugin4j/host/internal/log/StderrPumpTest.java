package dev.goplugin4j.host.internal.log;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

class StderrPumpTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  private ch.qos.logback.classic.Logger logger;
  private ListAppender<ILoggingEvent> appender;
  private final List<StderrPump> pumps = new ArrayList<>();

  @BeforeEach
  void captureLogs(TestInfo test) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    logger = context.getLogger("test.stderr." + test.getTestMethod().orElseThrow().getName());
    logger.setLevel(Level.TRACE);
    logger.setAdditive(false);
    appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
  }

  @AfterEach
  void noPumpThreadOutlivesItsTest() throws InterruptedException {
    for (StderrPump pump : pumps) {
      pump.close();
      pump.thread().join(WAIT.toMillis());
      assertThat(pump.thread().isAlive()).as("pump thread %s", pump.thread().getName()).isFalse();
    }
    logger.detachAppender(appender);
  }

  @Test
  void jsonLineBecomesAnEventAtItsLevelWithTheOtherKeysAsKeyValues() {
    pumpAll(
        "{\"@level\":\"warn\",\"@message\":\"disk {} low\",\"@module\":\"plugin.kv\","
            + "\"@timestamp\":\"2024-05-01T10:11:12.123456+02:00\",\"free\":12,\"ok\":true,"
            + "\"path\":\"/x\",\"nested\":{\"a\":[1,2]},\"none\":null}\n");

    assertThat(appender.list).hasSize(1);
    ILoggingEvent event = appender.list.get(0);
    assertThat(event.getLevel()).isEqualTo(Level.WARN);
    assertThat(event.getFormattedMessage())
        .isEqualTo("disk {} low: free=12 ok=true path=/x nested={\"a\":[1,2]} none=null");
    Map<String, Object> kv = keyValues(event);
    assertThat(kv.keySet())
        .containsExactly("@module", "@timestamp", "free", "ok", "path", "nested", "none");
    assertThat(kv.get("@module")).isEqualTo("plugin.kv");
    assertThat(kv.get("@timestamp")).isEqualTo("2024-05-01T10:11:12.123456+02:00");
    assertThat(kv.get("free")).isInstanceOf(Number.class);
    assertThat(((Number) kv.get("free")).intValue()).isEqualTo(12);
    assertThat(kv.get("ok")).isEqualTo(Boolean.TRUE);
    assertThat(kv.get("path")).isEqualTo("/x");
    assertThat(kv.get("nested")).isEqualTo("{\"a\":[1,2]}");
    assertThat(kv.get("none")).isNull();
  }

  @Test
  void jsonLevelsMapToSlf4jLevelsIgnoringCaseAndSpaces() {
    pumpAll(
        json("trace", "t"),
        json("debug", "d"),
        json("info", "i"),
        json("warn", "w"),
        json("error", "e"),
        json("ERROR", "upper"),
        json(" Info ", "padded"),
        "{\"@level\":\"info\",\"@message\":\"utc\",\"@timestamp\":\"2024-05-01T10:11:12.123456Z\"}\n");

    assertThat(levelsAndMessages())
        .containsExactly(
            "TRACE t", "DEBUG d", "INFO i", "WARN w", "ERROR e", "ERROR upper", "INFO padded",
            "INFO utc");
  }

  @Test
  void jsonWithoutAKnownLevelIsLoggedVerbatimAtDebug() {
    String warning = "{\"@level\":\"warning\",\"@message\":\"x\"}";
    String noLevel = "{\"@message\":\"y\",\"k\":1}";
    String off = "{\"@level\":\"off\",\"@message\":\"z\"}";
    pumpAll(warning + "\n", noLevel + "\n", off + "\n");

    assertThat(levelsAndMessages())
        .containsExactly("DEBUG " + warning, "DEBUG " + noLevel, "DEBUG " + off);
    assertThat(appender.list).allSatisfy(e -> assertThat(keyValues(e)).isEmpty());
  }

  @Test
  void invalidJsonIsTreatedAsPlainText() {
    String broken = "{\"@level\":\"error\",\"@message\":\"m\"";
    String badTimestamp = "{\"@level\":\"error\",\"@message\":\"m\",\"@timestamp\":\"yesterday\"}";
    String nonStringMessage = "{\"@level\":\"error\",\"@message\":42}";
    String lenientOnly = "{@level:error,@message:m}";
    String trailing = "{\"@level\":\"error\",\"@message\":\"m\"} extra";
    String tagged = "[ERROR] {\"not\": json";
    pumpAll(
        broken + "\n", badTimestamp + "\n", nonStringMessage + "\n", lenientOnly + "\n",
        trailing + "\n", tagged + "\n");

    assertThat(levelsAndMessages())
        .containsExactly(
            "DEBUG " + broken,
            "DEBUG " + badTimestamp,
            "DEBUG " + nonStringMessage,
            "DEBUG " + lenientOnly,
            "DEBUG " + trailing,
            "ERROR " + tagged);
  }

  @Test
  void levelPrefixesSetTheLevelAndTheLineIsLoggedAsWritten() {
    pumpAll(
        "[TRACE] a\n", "[DEBUG] b\n", "[INFO]  c\n", "[WARN] d\n", "[ERROR] e\n",
        "[WARNING] not a prefix\n", "[info] lower case is not a prefix\n", " [ERROR] indented\n");

    assertThat(levelsAndMessages())
        .containsExactly(
            "TRACE [TRACE] a",
            "DEBUG [DEBUG] b",
            "INFO [INFO]  c",
            "WARN [WARN] d",
            "ERROR [ERROR] e",
            "DEBUG [WARNING] not a prefix",
            "DEBUG [info] lower case is not a prefix",
            "DEBUG  [ERROR] indented");
  }

  @Test
  void plainLinesAreLoggedAtDebugWithoutFormatting() {
    pumpAll("hello {} world\n", "\n", "100% done\n");

    assertThat(levelsAndMessages())
        .containsExactly("DEBUG hello {} world", "DEBUG ", "DEBUG 100% done");
  }

  @Test
  void afterAPanicUntaggedLinesAreErrors() {
    pumpAll(
        "starting\n",
        "panic: runtime error: index out of range\n",
        "\n",
        "goroutine 1 [running]:\n",
        "main.main()\n",
        "[INFO] tagged keeps its level\n",
        json("info", "json keeps its level"),
        "\tmain.go:12 +0x1d\n");

    assertThat(levelsAndMessages())
        .containsExactly(
            "DEBUG starting",
            "ERROR panic: runtime error: index out of range",
            "ERROR ",
            "ERROR goroutine 1 [running]:",
            "ERROR main.main()",
            "INFO [INFO] tagged keeps its level",
            "INFO json keeps its level",
            "ERROR \tmain.go:12 +0x1d");
  }

  @Test
  void fatalErrorAlsoStartsPanicMode() {
    pumpAll("fatal error: all goroutines are asleep - deadlock!\n", "goroutine 1 [chan receive]:\n");

    assertThat(levelsAndMessages())
        .containsExactly(
            "ERROR fatal error: all goroutines are asleep - deadlock!",
            "ERROR goroutine 1 [chan receive]:");
  }

  @Test
  void aOneMebibyteLineIsSplitIntoChunksWithoutLosingBytes() {
    StringBuilder big = new StringBuilder(1 << 20);
    for (int i = 0; big.length() < 1 << 20; i++) {
      big.append((char) ('a' + i % 26));
    }
    String line = big.toString();
    ByteArrayOutputStream sink = new ByteArrayOutputStream();

    pump(new ByteArrayInputStream((line + "\nnext\n").getBytes(UTF_8)), sink, StderrPump.DEFAULT_BUFFER_SIZE);

    List<ILoggingEvent> events = appender.list;
    assertThat(events.size() - 1).isGreaterThanOrEqualTo(16);
    List<ILoggingEvent> chunks = events.subList(0, events.size() - 1);
    assertThat(chunks)
        .allSatisfy(
            e -> {
              assertThat(e.getLevel()).isEqualTo(Level.DEBUG);
              assertThat(e.getFormattedMessage().length())
                  .isBetween(1, StderrPump.DEFAULT_BUFFER_SIZE);
            });
    assertThat(chunks.stream().map(ILoggingEvent::getFormattedMessage).collect(Collectors.joining()))
        .isEqualTo(line);
    assertThat(events.get(events.size() - 1).getFormattedMessage()).isEqualTo("next");
    assertThat(sink.toString(UTF_8)).isEqualTo(line + "\nnext\n");
  }

  @Test
  void aLongTaggedLineKeepsItsLevelInEveryChunk() {
    String line = "[ERROR] " + "x".repeat(100);

    pump(new ByteArrayInputStream((line + "\n").getBytes(UTF_8)), null, 32);

    assertThat(appender.list).hasSizeGreaterThan(3);
    assertThat(appender.list).allSatisfy(e -> assertThat(e.getLevel()).isEqualTo(Level.ERROR));
    assertThat(messages()).isEqualTo(line);
  }

  @Test
  void chunksDoNotSplitMultiByteCharacters() {
    String line = "é".repeat(21) + "€😀" + "ü".repeat(30);

    pump(new ByteArrayInputStream((line + "\n").getBytes(UTF_8)), null, StderrPump.MIN_BUFFER_SIZE);

    assertThat(appender.list).hasSizeGreaterThan(5);
    assertThat(appender.list)
        .allSatisfy(e -> assertThat(e.getFormattedMessage()).doesNotContain("\uFFFD"));
    assertThat(messages()).isEqualTo(line);
  }

  @Test
  void crlfLineEndingsAreRemoved() {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();

    pump(new ByteArrayInputStream("one\r\ntwo\r\n\r\nlone\rcr\n".getBytes(UTF_8)), sink, 64);

    assertThat(levelsAndMessages()).containsExactly("DEBUG one", "DEBUG two", "DEBUG ", "DEBUG lone\rcr");
    assertThat(sink.toString(UTF_8)).isEqualTo("one\ntwo\n\nlone\rcr\n");
  }

  @Test
  void aCrlfAcrossTheBufferBoundaryStaysOneLineEnd() {
    String line = "x".repeat(StderrPump.MIN_BUFFER_SIZE - 1);
    ByteArrayOutputStream sink = new ByteArrayOutputStream();

    pump(
        new ByteArrayInputStream((line + "\r\nafter\r\n").getBytes(UTF_8)),
        sink,
        StderrPump.MIN_BUFFER_SIZE);

    assertThat(levelsAndMessages()).containsExactly("DEBUG " + line, "DEBUG after");
    assertThat(sink.toString(UTF_8)).isEqualTo(line + "\nafter\n");
  }

  @Test
  void theLastLineWithoutNewlineIsLoggedAtEndOfStream() {
    ByteArrayOutputStream sink = new ByteArrayOutputStream();

    pump(new ByteArrayInputStream("one\ntwo".getBytes(UTF_8)), sink, 64);

    assertThat(levelsAndMessages()).containsExactly("DEBUG one", "DEBUG two");
    assertThat(sink.toString(UTF_8)).isEqualTo("one\ntwo\n");
  }

  @Test
  void endOfStreamEndsTheThreadAndCompletesDrained() throws InterruptedException {
    StderrPump pump = start(new ByteArrayInputStream("bye\n".getBytes(UTF_8)), null, 64);

    assertThat(pump.awaitDrained(WAIT)).isTrue();
    assertThat(pump.drained()).isCompleted();
    pump.thread().join(WAIT.toMillis());
    assertThat(pump.thread().isAlive()).isFalse();
  }

  @Test
  void threadIsADaemonNamedAfterThePlugin() {
    BlockingStream in = new BlockingStream();
    StderrPump pump = start(in, null, 64);

    assertThat(pump.thread().getName()).isEqualTo("goplugin4j-stderr-myplugin");
    assertThat(pump.thread().isDaemon()).isTrue();
    pump.close();
  }

  @Test
  void closeEndsTheThreadOfAStreamThatWakesOnClose() {
    BlockingStream in = new BlockingStream();
    StderrPump pump = start(in, null, 64);
    in.awaitReading();

    pump.close();

    assertThat(pump.thread().isAlive()).isFalse();
    assertThat(pump.drained()).isCompleted();
    assertThat(in.closed).isTrue();
  }

  @Test
  void closeEndsTheThreadOfAStreamThatWakesOnInterrupt() throws IOException {
    PipedOutputStream writer = new PipedOutputStream();
    PipedInputStream in = new PipedInputStream(writer);
    StderrPump pump = start(in, null, 64);
    writer.write("hello\n".getBytes(UTF_8));
    writer.flush();
    awaitEvents(1);

    pump.close();

    assertThat(pump.thread().isAlive()).isFalse();
    assertThat(levelsAndMessages()).containsExactly("DEBUG hello");
  }

  @Test
  void closeIsIdempotent() {
    StderrPump pump = start(new BlockingStream(), null, 64);

    pump.close();
    pump.close();

    assertThat(pump.thread().isAlive()).isFalse();
  }

  @Test
  void aFailingSinkIsReportedOnceAndLoggingGoesOn() {
    AtomicInteger writes = new AtomicInteger();
    OutputStream failing =
        new OutputStream() {
          @Override
          public void write(int b) throws IOException {
            writes.incrementAndGet();
            throw new IOException("disk full");
          }
        };

    pump(new ByteArrayInputStream("a\nb\nc\n".getBytes(UTF_8)), failing, 64);

    assertThat(appender.list.stream().filter(e -> e.getLevel() == Level.WARN)).hasSize(1);
    assertThat(appender.list.stream().filter(e -> e.getLevel() == Level.DEBUG))
        .extracting(ILoggingEvent::getFormattedMessage)
        .containsExactly("a", "b", "c");
    assertThat(writes).hasValue(1);
  }

  @Test
  void aDisabledLoggerStillLetsLinesThroughToTheSink() {
    logger.setLevel(Level.OFF);
    ByteArrayOutputStream sink = new ByteArrayOutputStream();

    pump(new ByteArrayInputStream((json("error", "e") + "plain\n").getBytes(UTF_8)), sink, 64);

    assertThat(appender.list).isEmpty();
    assertThat(sink.toString(UTF_8)).isEqualTo(json("error", "e") + "plain\n");
  }

  @Test
  void recentLinesKeepsTheLastTwentyLinesOldestFirst() {
    StringBuilder text = new StringBuilder();
    for (int i = 1; i <= 25; i++) {
      text.append("line ").append(i).append('\n');
    }
    StderrPump pump = pump(new ByteArrayInputStream(text.toString().getBytes(UTF_8)), null, 64);

    assertThat(pump.recentLines()).hasSize(StderrPump.RECENT_LINES);
    assertThat(pump.recentLines().get(0)).isEqualTo("line 6");
    assertThat(pump.recentLines().get(19)).isEqualTo("line 25");
  }

  @Test
  void recentLinesKeepsOnlyTheStartOfASplitLine() {
    StderrPump pump =
        pump(new ByteArrayInputStream(("y".repeat(100) + "\nshort\n").getBytes(UTF_8)), null, 32);

    assertThat(pump.recentLines()).containsExactly("y".repeat(32) + " [...]", "short");
  }

  @Test
  void aBufferBelowTheMinimumIsRejected() {
    assertThatThrownBy(
            () ->
                StderrPump.start(
                    "p", new ByteArrayInputStream(new byte[0]), logger, null, 15))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bufferSize must be >= 16");
  }

  // --- helpers

  private static String json(String level, String message) {
    return "{\"@level\":\"" + level + "\",\"@message\":\"" + message + "\"}\n";
  }

  private void pumpAll(String... lines) {
    pump(new ByteArrayInputStream(String.join("", lines).getBytes(UTF_8)), null, StderrPump.DEFAULT_BUFFER_SIZE);
  }

  private StderrPump pump(InputStream in, OutputStream sink, int bufferSize) {
    StderrPump pump = start(in, sink, bufferSize);
    assertThat(pump.awaitDrained(WAIT)).as("drained").isTrue();
    return pump;
  }

  private StderrPump start(InputStream in, OutputStream sink, int bufferSize) {
    StderrPump pump = StderrPump.start("myplugin", in, logger, sink, bufferSize);
    pumps.add(pump);
    return pump;
  }

  private void awaitEvents(int count) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (appenderSize() < count && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    assertThat(appenderSize()).isGreaterThanOrEqualTo(count);
  }

  private int appenderSize() {
    synchronized (appender) {
      return appender.list.size();
    }
  }

  private List<String> levelsAndMessages() {
    return appender.list.stream()
        .map(e -> e.getLevel() + " " + e.getFormattedMessage())
        .collect(Collectors.toList());
  }

  private String messages() {
    return appender.list.stream().map(ILoggingEvent::getFormattedMessage).collect(Collectors.joining());
  }

  private static Map<String, Object> keyValues(ILoggingEvent event) {
    Map<String, Object> kv = new LinkedHashMap<>();
    List<KeyValuePair> pairs = event.getKeyValuePairs();
    if (pairs != null) {
      pairs.forEach(p -> kv.put(p.key, p.value));
    }
    return kv;
  }

  /** A stream whose read blocks until it is closed, as a socket's does. */
  private static final class BlockingStream extends InputStream {
    private final CountDownLatch reading = new CountDownLatch(1);
    private final CountDownLatch closeLatch = new CountDownLatch(1);
    volatile boolean closed;

    @Override
    public int read() throws IOException {
      reading.countDown();
      boolean interrupted = false;
      while (true) {
        try {
          closeLatch.await();
          break;
        } catch (InterruptedException e) {
          interrupted = true; // like a socket: an interrupt does not end the read, close does
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      throw new IOException("Stream closed");
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return read();
    }

    @Override
    public void close() {
      closed = true;
      closeLatch.countDown();
    }

    void awaitReading() {
      try {
        reading.await();
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }
}
