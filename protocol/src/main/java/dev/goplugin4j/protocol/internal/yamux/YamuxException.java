package dev.goplugin4j.protocol.internal.yamux;

import dev.goplugin4j.protocol.PluginException;

/**
 * Root of the yamux failures. Subclasses say what kind: {@link YamuxProtocolException}, {@link
 * YamuxStreamResetException}, {@link YamuxSessionClosedException}, {@link YamuxTimeoutException}.
 *
 * <p>Immutable and thread-safe.
 */
public class YamuxException extends PluginException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message what happened and how to fix it
   */
  public YamuxException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a cause.
   *
   * @param message what happened and how to fix it
   * @param cause the underlying failure; may be null
   */
  public YamuxException(String message, Throwable cause) {
    super(message, cause);
  }
}
