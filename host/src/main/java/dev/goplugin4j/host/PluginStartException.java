package dev.goplugin4j.host;

import dev.goplugin4j.protocol.PluginException;

/**
 * The plugin could not be started, or it did not come up: its executable is missing or not
 * executable, it exited before the host could connect, it did not complete the handshake within
 * the start timeout, or a process to reattach to is gone. The message says what happened and the
 * likely fix, and carries the runner's diagnosis (exit status, file mode, architecture, the last
 * lines the plugin wrote to stderr) when one is available.
 *
 * <p>Instances are immutable and thread-safe.
 */
public class PluginStartException extends PluginException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception with a message.
   *
   * @param message what went wrong and how to fix it, with the runner's diagnosis; not null
   */
  public PluginStartException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a message and a cause.
   *
   * @param message what went wrong and how to fix it, with the runner's diagnosis; not null
   * @param cause the underlying failure; may be null
   */
  public PluginStartException(String message, Throwable cause) {
    super(message, cause);
  }
}
