package dev.goplugin4j.host.internal.log;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.event.Level;

/**
 * Reads a plugin's stderr on one daemon thread ({@code goplugin4j-stderr-<plugin name>}) and, line
 * by line, copies it to the user's stderr sink and logs it through SLF4J (see {@link
 * StderrLineLogger} for the levels, which follow go-plugin's {@code Client.logStderr}).
 *
 * <p>Lines end at {@code \n}; a {@code \r} before it is dropped. A line longer than the buffer is
 * split into chunks of at most the buffer size (never inside a UTF-8 sequence or a {@code \r\n});
 * every chunk is logged, nothing is dropped and nothing is fatal. The sink receives the bytes as
 * read, with chunks of one line written back to back and a single {@code \n} at the end of each
 * line, so it sees the original text (with {@code \r\n} turned into {@code \n}). A last line
 * without terminator is handled at end of stream. A failing sink is reported once at warn and then
 * skipped; logging goes on.
 *
 * <p>The pump owns the input stream: it closes it at end of stream and on {@link #close()}. It
 * never closes the sink.
 *
 * <p>Usage by the client: start the pump right after the runner starts; before reporting a start
 * failure or after the plugin exited, wait for {@link #drained()} (bounded) so the last lines are in
 * the log and in {@link #recentLines()}; kill the runner; then {@link #close()}. Closing a pump
 * whose process is still alive stops logging at once, but a JDK process pipe does not wake a
 * blocked read when closed, so the thread then ends only when the process dies.
 *
 * <p>Thread-safe.
 */
public final class StderrPump implements AutoCloseable {
  /** Default read buffer, and so the longest line logged in one piece: 64 KiB, as go-plugin. */
  public static final int DEFAULT_BUFFER_SIZE = 64 * 1024;

  /** Smallest accepted buffer size in bytes. */
  public static final int MIN_BUFFER_SIZE = 16;

  /** How many of the last lines {@link #recentLines()} keeps. */
  public static final int RECENT_LINES = 20;

  /** Longest text kept per recent line, in chars. */
  static final int RECENT_LINE_MAX_CHARS = 1024;

  /** How long {@link #close()} waits for the thread to end. */
  static final Duration CLOSE_WAIT = Duration.ofSeconds(1);

  /** Thread name prefix; the plugin name follows. */
  public static final String THREAD_NAME_PREFIX = "goplugin4j-stderr-";

  private final String pluginName;
  private final InputStream in;
  private final OutputStream sink;
  private final Logger logger;
  private final StderrLineLogger lineLogger;
  private final int bufferSize;
  private final Thread thread;
  private final CompletableFuture<Void> drained = new CompletableFuture<>();
  private final ArrayDeque<String> recent = new ArrayDeque<>(RECENT_LINES);

  /** Held while a line is emitted, and by close() to stop emitting between two lines. */
  private final Object emitLock = new Object();

  private volatile boolean closed;
  private boolean sinkFailed; // pump thread only
  private boolean recentContinuation; // pump thread only

  private StderrPump(
      String pluginName, InputStream in, Logger logger, OutputStream sink, int bufferSize,
      BiConsumer<Level, String> warnLines) {
    this.pluginName = pluginName;
    this.in = in;
    this.logger = logger;
    this.lineLogger = new StderrLineLogger(logger, warnLines);
    this.sink = sink;
    this.bufferSize = bufferSize;
    this.thread = new Thread(this::run, THREAD_NAME_PREFIX + pluginName);
    this.thread.setDaemon(true);
  }

  /**
   * Starts pumping with the {@linkplain #DEFAULT_BUFFER_SIZE default buffer size}.
   *
   * @param pluginName names the thread and messages, for example the executable's file name; not
   *     null
   * @param stderr the plugin's stderr; the pump takes ownership; not null
   * @param logger where lines are logged; not null
   * @param sink the user's stderr sink, or null for none
   * @return the running pump
   */
  public static StderrPump start(
      String pluginName, InputStream stderr, Logger logger, OutputStream sink) {
    return start(pluginName, stderr, logger, sink, DEFAULT_BUFFER_SIZE);
  }

  /**
   * Starts pumping.
   *
   * @param pluginName names the thread and messages, for example the executable's file name; not
   *     null
   * @param stderr the plugin's stderr; the pump takes ownership; not null
   * @param logger where lines are logged; not null
   * @param sink the user's stderr sink, or null for none
   * @param bufferSize the read buffer in bytes, at least {@value #MIN_BUFFER_SIZE}; longer lines
   *     are split
   * @return the running pump
   * @throws IllegalArgumentException if {@code bufferSize} is below {@value #MIN_BUFFER_SIZE}
   */
  public static StderrPump start(
      String pluginName, InputStream stderr, Logger logger, OutputStream sink, int bufferSize) {
    return start(pluginName, stderr, logger, sink, bufferSize, null);
  }

  /**
   * Starts pumping, and passes every line at WARN or ERROR (the first chunk of a long one) with
   * its level and message to {@code warnLines}, on the pump's thread, whether or not the logger
   * is enabled for that level.
   *
   * @param pluginName names the thread and messages; not null
   * @param stderr the plugin's stderr; the pump takes ownership; not null
   * @param logger where lines are logged; not null
   * @param sink the user's stderr sink, or null for none
   * @param bufferSize the read buffer in bytes, at least {@value #MIN_BUFFER_SIZE}
   * @param warnLines receives WARN and ERROR lines; null for none
   * @return the running pump
   * @throws IllegalArgumentException if {@code bufferSize} is below {@value #MIN_BUFFER_SIZE}
   */
  public static StderrPump start(
      String pluginName, InputStream stderr, Logger logger, OutputStream sink, int bufferSize,
      BiConsumer<Level, String> warnLines) {
    Objects.requireNonNull(pluginName, "pluginName");
    Objects.requireNonNull(stderr, "stderr");
    Objects.requireNonNull(logger, "logger");
    if (bufferSize < MIN_BUFFER_SIZE) {
      throw new IllegalArgumentException(
          "bufferSize must be >= " + MIN_BUFFER_SIZE + " bytes, got " + bufferSize);
    }
    StderrPump pump = new StderrPump(pluginName, stderr, logger, sink, bufferSize, warnLines);
    pump.thread.start();
    return pump;
  }

  /**
   * Completes (normally, never exceptionally) when the pump has processed everything it will
   * process: at end of stream, after a read error, or on {@link #close()}. Completing it from
   * outside has no effect on the pump.
   *
   * @return a fresh dependent future
   */
  public CompletableFuture<Void> drained() {
    return drained.copy();
  }

  /**
   * Waits until {@link #drained()} completes or the timeout passes. If interrupted, returns false
   * with the interrupt flag set.
   *
   * @param timeout how long to wait; not negative
   * @return whether the pump has drained
   */
  public boolean awaitDrained(Duration timeout) {
    try {
      drained.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (ExecutionException e) {
      // drained is only ever completed normally
      throw new IllegalStateException(e);
    }
  }

  /**
   * The last lines read (at most {@value #RECENT_LINES}, each cut at {@value
   * #RECENT_LINE_MAX_CHARS} chars, only the first chunk of a split line), oldest first: material
   * for a start failure's diagnosis.
   *
   * @return an immutable copy
   */
  public List<String> recentLines() {
    synchronized (recent) {
      return List.copyOf(recent);
    }
  }

  /**
   * Stops the pump: no line is logged or copied after this returns; closes the input stream and
   * waits up to {@code CLOSE_WAIT} (1 s) for the thread to end. Idempotent; never throws. See the
   * class comment for a process that is still alive.
   */
  @Override
  public void close() {
    boolean first;
    synchronized (emitLock) {
      first = !closed;
      closed = true;
    }
    if (first) {
      try {
        in.close();
      } catch (IOException | RuntimeException e) {
        logger.debug("closing the stderr of plugin {} failed: {}", pluginName, e.toString());
      }
      // Wakes reads that honour interrupts (piped streams). Safe: with closed set under the
      // emit lock the thread is not, and will not be, writing to the sink.
      thread.interrupt();
    }
    if (Thread.currentThread() != thread) {
      try {
        thread.join(CLOSE_WAIT.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    drained.complete(null);
  }

  /** The pump's thread, for tests. */
  Thread thread() {
    return thread;
  }

  private void run() {
    try {
      pump();
    } catch (IOException e) {
      if (!closed) {
        // A pipe fails only when closed under us, typically by the runner's kill().
        logger.debug("stopped reading the stderr of plugin {}: {}", pluginName, e.toString());
      }
    } catch (RuntimeException | Error e) {
      logger.error("reading the stderr of plugin {} failed", pluginName, e);
    } finally {
      try {
        in.close();
      } catch (IOException | RuntimeException e) {
        logger.debug("closing the stderr of plugin {} failed: {}", pluginName, e.toString());
      }
      drained.complete(null);
    }
  }

  /** The line splitter: go-plugin's bufio.Reader.ReadLine, with a fixed buffer. */
  private void pump() throws IOException {
    byte[] buf = new byte[bufferSize];
    int start = 0; // first unconsumed byte
    int end = 0; // end of valid data
    int scanned = 0; // buf[start, scanned) has no '\n'
    boolean midLine = false; // the last emit was a chunk of a line that has not ended yet
    while (!closed) {
      int nl = indexOf(buf, scanned, end, (byte) '\n');
      if (nl >= 0) {
        int lineEnd = nl > start && buf[nl - 1] == '\r' ? nl - 1 : nl;
        if (!emit(buf, start, lineEnd - start, false)) {
          return;
        }
        midLine = false;
        start = nl + 1;
        scanned = start;
        continue;
      }
      scanned = end;
      if (end - start == buf.length) {
        int cut = chunkEnd(buf, start, end);
        if (!emit(buf, start, cut - start, true)) {
          return;
        }
        midLine = true;
        start = cut;
        continue;
      }
      if (end == buf.length) {
        System.arraycopy(buf, start, buf, 0, end - start);
        end -= start;
        scanned -= start;
        start = 0;
      }
      int n = in.read(buf, end, buf.length - end);
      if (n < 0) {
        // An unterminated last line ends here, even when its last chunk filled the buffer: the
        // sink gets its line end and the logger leaves continuation state.
        if (end > start || midLine) {
          emit(buf, start, end - start, false);
        }
        return;
      }
      end += n;
    }
  }

  /**
   * Where to cut a full buffer that holds no line end: not between {@code \r} and a {@code \n}
   * that may follow, and not inside a UTF-8 sequence, unless that leaves nothing to emit.
   */
  private static int chunkEnd(byte[] buf, int start, int end) {
    int cut = end;
    if (buf[cut - 1] == '\r') {
      cut--;
    }
    // Look back at most 3 bytes for the lead byte of a multi-byte sequence.
    for (int i = cut - 1; i >= Math.max(start, cut - 3); i--) {
      int b = buf[i] & 0xff;
      if ((b & 0xc0) == 0x80) {
        continue; // continuation byte
      }
      int length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      if (i + length > cut) {
        cut = i;
      }
      break;
    }
    return cut > start ? cut : end;
  }

  private static int indexOf(byte[] buf, int from, int to, byte b) {
    for (int i = from; i < to; i++) {
      if (buf[i] == b) {
        return i;
      }
    }
    return -1;
  }

  /** Emits a line or chunk; false when the pump was closed. */
  private boolean emit(byte[] buf, int off, int len, boolean isPrefix) {
    synchronized (emitLock) {
      if (closed) {
        return false;
      }
      writeSink(buf, off, len, isPrefix);
      String text = new String(buf, off, len, StandardCharsets.UTF_8);
      remember(text, isPrefix);
      try {
        lineLogger.log(text, isPrefix);
      } catch (RuntimeException e) {
        // Appenders report their own failures (logback's status manager); a broken one must not
        // stop the copy to the sink, nor block the plugin on a full pipe.
      }
      return true;
    }
  }

  private void writeSink(byte[] buf, int off, int len, boolean isPrefix) {
    if (sink == null || sinkFailed) {
      return;
    }
    try {
      sink.write(buf, off, len);
      if (!isPrefix) {
        sink.write('\n');
        sink.flush();
      }
    } catch (IOException | RuntimeException e) {
      sinkFailed = true;
      logger.warn(
          "writing the stderr of plugin {} to the configured stderr sink failed; the sink is no"
              + " longer used for this plugin: {}",
          pluginName,
          e.toString());
    }
  }

  private void remember(String text, boolean isPrefix) {
    if (!recentContinuation) {
      String kept =
          text.length() > RECENT_LINE_MAX_CHARS ? text.substring(0, RECENT_LINE_MAX_CHARS) : text;
      if (isPrefix || kept.length() < text.length()) {
        kept += " [...]";
      }
      synchronized (recent) {
        if (recent.size() == RECENT_LINES) {
          recent.removeFirst();
        }
        recent.addLast(kept);
      }
    }
    recentContinuation = isPrefix;
  }
}
