package dev.goplugin4j.host.internal.log;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Reads lines from a plugin's stdout with a fixed buffer, so a plugin can never make the host hold
 * more than {@code maxLineBytes} of one line: go-plugin reads the handshake with a {@code
 * bufio.Scanner} capped at 64 KiB. A line longer than the buffer comes out in chunks of at most
 * the buffer size, each marked as {@linkplain Chunk#continues() continued}; nothing is dropped
 * and the caller decides what an overlong line means (before the handshake it is fatal, after it
 * the chunks are logged abbreviated and discarded).
 *
 * <p>Lines end at {@code \n}; a {@code \r} right before it is dropped. Bytes are decoded as UTF-8
 * (malformed input replaced). A last line without terminator is returned at end of stream.
 *
 * <p>Not thread-safe: one reader thread.
 */
public final class BoundedLineReader {
  /** go-plugin's handshake scanner limit: 64 KiB. */
  public static final int DEFAULT_MAX_LINE_BYTES = 64 * 1024;

  /**
   * One line, or one piece of a line longer than the buffer.
   *
   * @param text the bytes decoded as UTF-8, without line terminator
   * @param bytes how many bytes {@code text} was read from
   * @param continues whether more of the same line follows
   */
  public record Chunk(String text, int bytes, boolean continues) {}

  private final InputStream in;
  private final byte[] buf;
  private int start;
  private int end;
  private int scanned;
  private boolean eof;

  /**
   * Creates a reader.
   *
   * @param in the stream; the caller closes it
   * @param maxLineBytes the buffer size and so the largest chunk, at least 16
   */
  public BoundedLineReader(InputStream in, int maxLineBytes) {
    this.in = Objects.requireNonNull(in, "in");
    if (maxLineBytes < 16) {
      throw new IllegalArgumentException("maxLineBytes must be >= 16, got " + maxLineBytes);
    }
    this.buf = new byte[maxLineBytes];
  }

  /**
   * The next line or chunk.
   *
   * @return the chunk, or null at end of stream
   * @throws IOException if reading fails
   */
  public Chunk next() throws IOException {
    while (true) {
      for (int i = scanned; i < end; i++) {
        if (buf[i] == '\n') {
          int lineEnd = i > start && buf[i - 1] == '\r' ? i - 1 : i;
          Chunk c = chunk(start, lineEnd, i + 1 - start, false);
          start = i + 1;
          scanned = start;
          return c;
        }
      }
      scanned = end;
      if (end - start == buf.length) {
        int cut = end;
        if (buf[cut - 1] == '\r') {
          cut--; // a '\n' may follow: keep the '\r' for the next chunk
        }
        cut = utf8Boundary(cut);
        Chunk c = chunk(start, cut, cut - start, true);
        start = cut;
        return c;
      }
      if (eof) {
        if (end > start) {
          Chunk c = chunk(start, end, end - start, false);
          start = end;
          scanned = end;
          return c;
        }
        return null;
      }
      if (end == buf.length) {
        System.arraycopy(buf, start, buf, 0, end - start);
        end -= start;
        scanned -= start;
        start = 0;
      }
      int n = in.read(buf, end, buf.length - end);
      if (n < 0) {
        eof = true;
      } else {
        end += n;
      }
    }
  }

  /** Moves a cut back before an incomplete UTF-8 sequence, unless that leaves nothing. */
  private int utf8Boundary(int cut) {
    for (int i = cut - 1; i >= Math.max(start, cut - 3); i--) {
      int b = buf[i] & 0xff;
      if ((b & 0xc0) == 0x80) {
        continue;
      }
      int length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      if (i + length > cut && i > start) {
        return i;
      }
      break;
    }
    return cut;
  }

  private Chunk chunk(int from, int to, int consumed, boolean continues) {
    return new Chunk(new String(buf, from, to - from, StandardCharsets.UTF_8), consumed, continues);
  }
}
