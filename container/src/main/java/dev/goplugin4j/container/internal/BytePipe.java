package dev.goplugin4j.container.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;

/**
 * An in-memory pipe between one writer thread (the demultiplexer) and one reader (the host).
 * Bounded: the writer blocks when the buffer is full, which back-pressures the engine's stream;
 * once the reader closes its end, further writes are discarded so the writer never blocks on a
 * reader that left. Closing the writer's end gives the reader end of stream after the buffered
 * bytes. The buffer starts small and grows up to the capacity only when the reader falls behind
 * (a plugin's output usually passes through a few KiB at a time).
 */
public final class BytePipe {
  /** The buffer a pipe starts with. */
  static final int INITIAL_BUFFER = 8 * 1024;

  private final int capacity;
  private byte[] buf;
  private int head;
  private int count;
  private boolean writerClosed;
  private boolean readerClosed;

  private final InputStream in = new Source();
  private final OutputStream out = new Sink();

  /** A pipe holding at most {@code capacity} unread bytes. */
  public BytePipe(int capacity) {
    this.capacity = capacity;
    buf = new byte[Math.min(capacity, INITIAL_BUFFER)];
  }

  /** Doubles the buffer, up to the capacity, keeping the unread bytes in order. */
  private void grow() {
    byte[] bigger = new byte[(int) Math.min(capacity, 2L * buf.length)];
    int first = Math.min(count, buf.length - head);
    System.arraycopy(buf, head, bigger, 0, first);
    System.arraycopy(buf, 0, bigger, first, count - first);
    buf = bigger;
    head = 0;
  }

  /** The reader's end. */
  public InputStream in() {
    return in;
  }

  /** The writer's end. */
  public OutputStream out() {
    return out;
  }

  /** Ends the stream: the reader gets the buffered bytes, then end of stream. Idempotent. */
  public void closeWriter() {
    synchronized (this) {
      writerClosed = true;
      notifyAll();
    }
  }

  private final class Sink extends OutputStream {
    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      synchronized (BytePipe.this) {
        while (len > 0) {
          if (readerClosed) {
            return;
          }
          if (writerClosed) {
            throw new IOException("pipe closed");
          }
          if (count == buf.length && buf.length < capacity) {
            grow();
          }
          if (count == buf.length) {
            try {
              BytePipe.this.wait();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new InterruptedIOException("interrupted while the pipe was full");
            }
            continue;
          }
          int tail = (head + count) % buf.length;
          int n = Math.min(len, Math.min(buf.length - count, buf.length - tail));
          System.arraycopy(b, off, buf, tail, n);
          count += n;
          off += n;
          len -= n;
          BytePipe.this.notifyAll();
        }
      }
    }

    @Override
    public void close() {
      closeWriter();
    }
  }

  private final class Source extends InputStream {
    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      synchronized (BytePipe.this) {
        while (count == 0) {
          if (writerClosed || readerClosed) {
            return -1;
          }
          try {
            BytePipe.this.wait();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while reading the plugin's output");
          }
        }
        int n = Math.min(len, Math.min(count, buf.length - head));
        System.arraycopy(buf, head, b, off, n);
        head = (head + n) % buf.length;
        count -= n;
        BytePipe.this.notifyAll();
        return n;
      }
    }

    @Override
    public int available() {
      synchronized (BytePipe.this) {
        return count;
      }
    }

    @Override
    public void close() {
      synchronized (BytePipe.this) {
        readerClosed = true;
        count = 0;
        BytePipe.this.notifyAll();
      }
    }
  }
}
