package dev.goplugin4j.protocol;

import java.util.Objects;

/**
 * A network address as go-plugin writes it: a network ({@code unix} or {@code tcp}) and an address
 * (a socket path, or {@code host:port}).
 *
 * <p>Immutable and thread-safe.
 *
 * @param network {@value #UNIX} or {@value #TCP}; not null
 * @param address a socket path for {@code unix}, {@code host:port} for {@code tcp}; not empty
 */
public record NetAddress(String network, String address) {
  /** The Unix domain socket network name. */
  public static final String UNIX = "unix";

  /** The TCP network name. */
  public static final String TCP = "tcp";

  /**
   * Validates the fields.
   *
   * @throws IllegalArgumentException if {@code network} is neither {@code unix} nor {@code tcp}, or
   *     the address is empty
   */
  public NetAddress {
    Objects.requireNonNull(network, "network");
    Objects.requireNonNull(address, "address");
    if (!UNIX.equals(network) && !TCP.equals(network)) {
      throw new IllegalArgumentException(
          "network must be \"unix\" or \"tcp\", got \"" + network + "\"");
    }
    if (address.isEmpty()) {
      throw new IllegalArgumentException("address must not be empty");
    }
  }

  /**
   * A Unix socket address.
   *
   * @param path the socket path; not empty
   * @return the address
   */
  public static NetAddress unix(String path) {
    return new NetAddress(UNIX, path);
  }

  /**
   * A TCP address.
   *
   * @param hostAndPort {@code host:port}; not empty
   * @return the address
   */
  public static NetAddress tcp(String hostAndPort) {
    return new NetAddress(TCP, hostAndPort);
  }

  /** Returns {@code network:address}. */
  @Override
  public String toString() {
    return network + ":" + address;
  }
}
