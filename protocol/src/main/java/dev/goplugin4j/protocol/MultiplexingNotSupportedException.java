package dev.goplugin4j.protocol;

/**
 * The host asked for the multiplexed gRPC broker ({@code PLUGIN_MULTIPLEX_GRPC}) and the plugin's
 * handshake did not grant it: the seventh field is missing (the plugin's go-plugin predates v1.6,
 * or the plugin is not built on go-plugin), is not a boolean, or is false. Every other field of the
 * handshake was accepted before this check, so starting the plugin again without the multiplexed
 * broker is the fallback that can work; any other {@link HandshakeException} would fail the same
 * way again.
 *
 * <p>Instances are immutable and thread-safe.
 */
public class MultiplexingNotSupportedException extends HandshakeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception with a message.
   *
   * @param message what went wrong and how to fix it; not null
   */
  public MultiplexingNotSupportedException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a message and a cause.
   *
   * @param message what went wrong and how to fix it; not null
   * @param cause the underlying failure; may be null
   */
  public MultiplexingNotSupportedException(String message, Throwable cause) {
    super(message, cause);
  }
}
