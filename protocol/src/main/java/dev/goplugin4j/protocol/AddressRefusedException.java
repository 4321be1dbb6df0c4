package dev.goplugin4j.protocol;

import java.util.Objects;

/**
 * The host refused to dial an address a plugin announced (in its handshake line, in a reattach
 * config, or in a broker {@code ConnInfo}), before any connection was made. Addresses are accepted
 * only as Unix sockets directly inside the plugin's socket directory (no other directory, no
 * {@code ..}, no symbolic link, nothing that exists and is not a socket), or as TCP on a loopback
 * address unless the host opted in to other TCP addresses. A plugin that announces anything else
 * is either broken or trying to make the host connect somewhere it should not.
 *
 * <p>{@link #address()} is the address as announced, {@link #rule()} the rule it broke, in a few
 * words; the message says both and how to fix it.
 *
 * <p>Instances are immutable and thread-safe.
 */
public class AddressRefusedException extends PluginException {
  private static final long serialVersionUID = 1L;

  /** The address as announced, {@code network:address}. */
  private final String address;

  /** The rule the address broke, in a few words. */
  private final String rule;

  /**
   * Creates the exception.
   *
   * @param address the refused address as announced ({@code network:address}); not null
   * @param rule the rule it broke, in a few words; not null
   * @param message what was refused, why, and how to fix it; not null
   */
  public AddressRefusedException(String address, String rule, String message) {
    super(message);
    this.address = Objects.requireNonNull(address, "address");
    this.rule = Objects.requireNonNull(rule, "rule");
  }

  /**
   * The refused address, as announced.
   *
   * @return {@code network:address}, or the raw text when it did not parse as an address
   */
  public String address() {
    return address;
  }

  /**
   * The rule the address broke, for example {@code "unix socket outside the socket directory"}.
   *
   * @return a short phrase; never null
   */
  public String rule() {
    return rule;
  }
}
