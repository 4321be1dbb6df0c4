package dev.goplugin4j.container;

import dev.goplugin4j.protocol.PluginException;

/**
 * Root of the failures of the container runner: the engine refused a request, a container could
 * not be created or started, or a plugin container could not be found again. Subclasses mark the
 * failures a caller can act on ({@link EngineUnavailableException}, {@link
 * ImageNotFoundException}, {@link Sha256MismatchException}). A refused address is a {@link
 * dev.goplugin4j.protocol.AddressRefusedException} ({@link AddressOutsideSocketDirException}).
 *
 * <p>Instances are immutable and thread-safe.
 */
public class ContainerException extends PluginException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception with a message.
   *
   * @param message what went wrong and how to fix it; not null
   */
  public ContainerException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a message and a cause.
   *
   * @param message what went wrong and how to fix it; not null
   * @param cause the underlying failure; may be null
   */
  public ContainerException(String message, Throwable cause) {
    super(message, cause);
  }
}
