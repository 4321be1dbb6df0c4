package dev.goplugin4j.protocol;

/**
 * Root of every exception goplugin4j throws. Unchecked; subclasses mark the failures a caller can
 * act on. Messages say what happened, where, and the likely fix. gRPC errors raised by a plugin's
 * own services ({@code io.grpc.StatusRuntimeException}) are not wrapped and pass through as they
 * are.
 *
 * <p>Instances are immutable and thread-safe.
 */
public class PluginException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception with a message.
   *
   * @param message what went wrong and how to fix it; not null
   */
  public PluginException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a message and a cause.
   *
   * @param message what went wrong and how to fix it; not null
   * @param cause the underlying failure; may be null
   */
  public PluginException(String message, Throwable cause) {
    super(message, cause);
  }
}
