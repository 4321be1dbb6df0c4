package dev.goplugin4j.container.internal;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Splits the Docker Engine's multiplexed stream (attach and logs of a container without a TTY)
 * into stdout and stderr. Each frame is an 8-byte header {@code [stream, 0, 0, 0, size (4 bytes,
 * big-endian)]} followed by {@code size} bytes; stream 1 is stdout, 2 stderr (0, stdin, is
 * treated as stdout; unknown streams are skipped).
 */
public final class FrameDemuxer {
  private FrameDemuxer() {}

  /**
   * Copies frames until end of stream.
   *
   * @throws EOFException if the stream ends inside a frame
   * @throws IOException if reading or writing fails
   */
  public static void copy(InputStream in, OutputStream stdout, OutputStream stderr)
      throws IOException {
    byte[] header = new byte[8];
    byte[] buf = new byte[16 * 1024];
    while (true) {
      int n = in.readNBytes(header, 0, 8);
      if (n == 0) {
        return;
      }
      if (n < 8) {
        throw new EOFException("stream ended inside a frame header (" + n + " of 8 bytes)");
      }
      long size = ((header[4] & 0xffL) << 24) | ((header[5] & 0xff) << 16)
          | ((header[6] & 0xff) << 8) | (header[7] & 0xff);
      OutputStream target;
      switch (header[0]) {
        case 0:
        case 1:
          target = stdout;
          break;
        case 2:
          target = stderr;
          break;
        default:
          target = null;
      }
      while (size > 0) {
        int chunk = in.read(buf, 0, (int) Math.min(buf.length, size));
        if (chunk < 0) {
          throw new EOFException("stream ended inside a frame (" + size + " bytes missing)");
        }
        if (target != null) {
          target.write(buf, 0, chunk);
          target.flush();
        }
        size -= chunk;
      }
    }
  }
}
