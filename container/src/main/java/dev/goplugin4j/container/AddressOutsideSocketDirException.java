package dev.goplugin4j.container;

import dev.goplugin4j.protocol.AddressRefusedException;

/**
 * An address to translate between the container and the host is not a Unix socket directly
 * inside the shared socket directory: another directory, a path with {@code ..}, a symbolic link,
 * something that is not a socket, or a TCP address (the container's network is not the host's).
 * A plugin that sends such an address is either built with a go-plugin too old for containers
 * (recompile it with go-plugin 1.5 or later) or is trying to make the host dial elsewhere.
 *
 * <p>An {@link AddressRefusedException} (not a {@link ContainerException}), so a caller catches
 * every refused address, of a process or a container plugin, in one place.
 *
 * <p>Instances are immutable and thread-safe.
 */
public class AddressOutsideSocketDirException extends AddressRefusedException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param address the refused address, {@code network:address}; not null
   * @param rule the rule it broke, in a few words; not null
   * @param message the address, the directory expected and why it was refused; not null
   */
  public AddressOutsideSocketDirException(String address, String rule, String message) {
    super(address, rule, message);
  }

  /**
   * Creates the exception for an address given only in the message.
   *
   * @param message the address, the directory expected and why it was refused; not null
   */
  public AddressOutsideSocketDirException(String message) {
    super("unknown", "unix socket not directly inside the socket directory", message);
  }
}
