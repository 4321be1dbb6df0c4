package dev.goplugin4j.protocol.internal.yamux;

/**
 * The peer broke the yamux protocol (bad version or type, receive window exceeded, duplicate stream, a GoAway with an error code); the session is closed.
 *
 * <p>Immutable and thread-safe.
 */
public final class YamuxProtocolException extends YamuxException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message what happened and how to fix it
   */
  public YamuxProtocolException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a cause.
   *
   * @param message what happened and how to fix it
   * @param cause the underlying failure; may be null
   */
  public YamuxProtocolException(String message, Throwable cause) {
    super(message, cause);
  }
}
