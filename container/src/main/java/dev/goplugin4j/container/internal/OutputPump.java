package dev.goplugin4j.container.internal;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Output phase of {@link ContainerRunner}: the plugin's stdout and stderr. One daemon thread
 * demultiplexes the engine's attach stream into two bounded pipes, which the host reads; at the
 * end the attach stream is closed, the thread given a moment to drain it, and both pipes ended.
 *
 * <p>Thread-safe: one thread writes the pipes, any thread reads them; {@link #end} and {@link
 * #closeWriters} may be called from any thread, more than once.
 */
final class OutputPump {
  // the runner's logger: tests and users read these lines under ContainerRunner
  private static final Logger LOG = LoggerFactory.getLogger(ContainerRunner.class);

  /** Unread plugin output held per stream before the engine's stream is back-pressured. */
  static final int PIPE_CAPACITY = 1 << 20;

  private final BytePipe stdout = new BytePipe(PIPE_CAPACITY);
  private final BytePipe stderr = new BytePipe(PIPE_CAPACITY);

  /** The plugin's stdout, for the host. */
  InputStream stdout() {
    return stdout.in();
  }

  /** The plugin's stderr, for the host. */
  InputStream stderr() {
    return stderr.in();
  }

  /**
   * A daemon thread, not yet started, that copies {@code attach} into the two pipes until it
   * ends, then ends them.
   *
   * @param startedAt {@link System#nanoTime()} when the start began, for the first-output timing
   * @param endExpected whether an end of the stream now is expected (a kill or release), so not
   *     worth a DEBUG line
   */
  Thread thread(InputStream attach, String containerId, long startedAt,
      BooleanSupplier endExpected) {
    Thread t = new Thread(() -> pump(attach, containerId, startedAt, endExpected),
        "goplugin4j-container-output-" + DockerJavaEngine.shortId(containerId));
    t.setDaemon(true);
    return t;
  }

  private void pump(InputStream in, String id, long startedAt, BooleanSupplier endExpected) {
    try {
      FrameDemuxer.copy(in, firstOutputLogged(stdout.out(), id, startedAt), stderr.out());
    } catch (IOException | RuntimeException e) {
      if (!endExpected.getAsBoolean()) {
        LOG.debug("output stream of container {} ended: {}", DockerJavaEngine.shortId(id),
            e.toString());
      }
    } finally {
      closeWriters();
    }
  }

  /** {@code out}, logging at DEBUG when the first byte arrives after start() began. */
  private static OutputStream firstOutputLogged(OutputStream out, String id, long startedAt) {
    if (!LOG.isDebugEnabled()) {
      return out;
    }
    return new FilterOutputStream(out) {
      private boolean seen;

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        if (!seen && len > 0) {
          seen = true;
          LOG.debug("first stdout byte of container {} {} ms after the start began",
              DockerJavaEngine.shortId(id),
              Math.round((System.nanoTime() - startedAt) / 100_000.0) / 10.0);
        }
        out.write(b, off, len);
      }
    };
  }

  /**
   * Closes the attach stream, gives the pump thread up to 2 s to drain it and end, then ends
   * both output streams for their readers.
   */
  void end(InputStream attach, Thread pumpThread) {
    if (attach != null) {
      try {
        attach.close();
      } catch (IOException | RuntimeException ex) {
        LOG.debug("closing attach stream", ex);
      }
    }
    if (pumpThread != null) {
      try {
        pumpThread.join(2000);
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
      }
    }
    closeWriters();
  }

  /** Ends both output streams for their readers; what they hold can still be read. */
  void closeWriters() {
    stdout.closeWriter();
    stderr.closeWriter();
  }
}
