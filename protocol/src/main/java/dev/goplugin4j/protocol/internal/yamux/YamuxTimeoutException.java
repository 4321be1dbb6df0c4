package dev.goplugin4j.protocol.internal.yamux;

/**
 * A yamux timeout elapsed: a ping not answered in time, a stream open not acknowledged, or the connection not writable for too long.
 *
 * <p>Immutable and thread-safe.
 */
public final class YamuxTimeoutException extends YamuxException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message what happened and how to fix it
   */
  public YamuxTimeoutException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a cause.
   *
   * @param message what happened and how to fix it
   * @param cause the underlying failure; may be null
   */
  public YamuxTimeoutException(String message, Throwable cause) {
    super(message, cause);
  }
}
