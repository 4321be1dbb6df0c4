package dev.goplugin4j.protocol.internal.yamux;

import java.net.SocketAddress;
import java.util.Objects;

/**
 * The address of a yamux stream or of a virtual yamux server: just a name, for logs and for
 * gRPC's {@code remoteAddress} attribute. Streams are never dialled by address; a {@link
 * YamuxSession} opens them.
 *
 * <p>Immutable and thread-safe.
 */
public final class YamuxAddress extends SocketAddress {
  private static final long serialVersionUID = 1L;

  private final String name;

  /**
   * Creates an address.
   *
   * @param name any descriptive name, e.g. {@code "session-1/stream-3"}
   */
  public YamuxAddress(String name) {
    this.name = Objects.requireNonNull(name, "name");
  }

  /** The name given at creation. */
  public String name() {
    return name;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof YamuxAddress a && a.name.equals(name);
  }

  @Override
  public int hashCode() {
    return name.hashCode();
  }

  @Override
  public String toString() {
    return "yamux:" + name;
  }
}
