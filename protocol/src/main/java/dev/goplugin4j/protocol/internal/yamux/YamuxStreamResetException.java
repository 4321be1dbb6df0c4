package dev.goplugin4j.protocol.internal.yamux;

/**
 * The stream was reset (RST): by the peer (also when it refuses a stream because its backlog is full or it is going away), or locally.
 *
 * <p>Immutable and thread-safe.
 */
public final class YamuxStreamResetException extends YamuxException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception.
   *
   * @param message what happened and how to fix it
   */
  public YamuxStreamResetException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a cause.
   *
   * @param message what happened and how to fix it
   * @param cause the underlying failure; may be null
   */
  public YamuxStreamResetException(String message, Throwable cause) {
    super(message, cause);
  }
}
