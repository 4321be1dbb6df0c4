package dev.goplugin4j.protocol.internal.yamux;

/**
 * The yamux session is closed (locally, by the peer, or because the connection broke); pending opens, accepts, pings and the writes of every open stream fail with this.
 *
 * <p>Immutable and thread-safe.
 */
public final class YamuxSessionClosedException extends YamuxException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message what happened and how to fix it
   */
  public YamuxSessionClosedException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a cause.
   *
   * @param message what happened and how to fix it
   * @param cause the underlying failure; may be null
   */
  public YamuxSessionClosedException(String message, Throwable cause) {
    super(message, cause);
  }
}
