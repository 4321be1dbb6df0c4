package dev.goplugin4j.protocol;

/**
 * The handshake between host and plugin failed: the plugin's handshake line was malformed, or the
 * two sides share no core or app protocol version, or they disagree on transport, certificate or
 * multiplexing. The message names the offending field and the fix; when thrown by a host client it
 * also carries the runner's diagnosis.
 *
 * <p>Instances are immutable and thread-safe.
 */
public class HandshakeException extends PluginException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception with a message.
   *
   * @param message what went wrong and how to fix it; not null
   */
  public HandshakeException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a message and a cause.
   *
   * @param message what went wrong and how to fix it; not null
   * @param cause the underlying failure; may be null
   */
  public HandshakeException(String message, Throwable cause) {
    super(message, cause);
  }
}
