package dev.goplugin4j.container;

/**
 * An address to translate between the container and the host is not a Unix socket directly
 * inside the shared socket directory: another directory, a path with {@code ..}, a symbolic link,
 * something that is not a socket, or a TCP address (the container's network is not the host's).
 * A plugin that sends such an address is either built with a go-plugin too old for containers
 * (recompile it with go-plugin 1.5 or later) or is trying to make the host dial elsewhere.
 *
 * <p>Instances are immutable and thread-safe.
 */
public class AddressOutsideSocketDirException extends ContainerException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message the address, the directory expected and why it was refused; not null
   */
  public AddressOutsideSocketDirException(String message) {
    super(message);
  }
}
