package dev.goplugin4j.server.internal.log;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Where hclog lines go: the process's real stderr (file descriptor 2), never {@code System.err},
 * which the plugin server redirects into {@code plugin.GRPCStdio} once it serves. A go-plugin host
 * reads fd 2 line by line and parses JSON lines as log entries.
 *
 * <p>Thread-safe: one write per line under a lock, so lines never interleave.
 */
public final class HclogSink {
  private static final HclogSink STDERR = new HclogSink(new FileOutputStream(FileDescriptor.err));

  private final OutputStream out;
  private volatile boolean broken;

  HclogSink(OutputStream out) {
    this.out = out;
  }

  /**
   * The sink writing to file descriptor 2.
   *
   * @return the shared sink
   */
  public static HclogSink stderr() {
    return STDERR;
  }

  /**
   * Writes one line (a newline is appended). Errors (a host that went away) are swallowed: there
   * is nowhere left to report them.
   *
   * @param line the line without newline
   */
  public void writeLine(String line) {
    if (broken) {
      return;
    }
    byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
    synchronized (this) {
      try {
        out.write(bytes);
        out.flush();
      } catch (IOException e) {
        broken = true;
      }
    }
  }

  /**
   * Whether a write failed (the reading end of stderr is gone, e.g. the host exited).
   *
   * @return true after a failed write
   */
  public boolean broken() {
    return broken;
  }
}
