package dev.goplugin4j.server;

import dev.goplugin4j.protocol.PluginException;

/**
 * The plugin server could not start or failed while serving: for example the socket directory
 * the host gave ({@code PLUGIN_UNIX_SOCKET_DIR}) is not writable or too long a path, the host's
 * AutoMTLS certificate cannot be parsed, the TLS provider failed, or a {@link GrpcServerPlugin}
 * threw while registering. The message says what happened and how to fix it.
 *
 * <p>Instances are immutable and thread-safe.
 */
public class PluginServeException extends PluginException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception with a message.
   *
   * @param message what went wrong and how to fix it; not null
   */
  public PluginServeException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a message and a cause.
   *
   * @param message what went wrong and how to fix it; not null
   * @param cause the underlying failure; may be null
   */
  public PluginServeException(String message, Throwable cause) {
    super(message, cause);
  }
}
