package dev.goplugin4j.container;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How the plugin's container joins one network: the counterpart of the Docker Engine API's {@code
 * EndpointSettings}, reduced to the fields a plugin container has use for. Used with {@link
 * ContainerConfig.Builder#endpointsConfig(Map)}; the map key is the network name.
 *
 * <p>Immutable and thread-safe.
 *
 * @param networkId the network's ID, or empty to let the engine resolve the name; not null
 * @param aliases extra DNS names of the container on that network; not null
 * @param links legacy links ({@code container:alias}); not null
 * @param ipv4Address a static IPv4 address, or empty for one from the pool; not null
 * @param ipv6Address a static IPv6 address, or empty; not null
 * @param driverOpts options for the network driver; not null
 */
public record EndpointConfig(
    String networkId,
    List<String> aliases,
    List<String> links,
    String ipv4Address,
    String ipv6Address,
    Map<String, String> driverOpts) {

  /** An endpoint with every field at the engine's default. */
  public static final EndpointConfig DEFAULT =
      new EndpointConfig("", List.of(), List.of(), "", "", Map.of());

  /** Validates and copies the fields. */
  public EndpointConfig {
    Objects.requireNonNull(networkId, "networkId");
    Objects.requireNonNull(ipv4Address, "ipv4Address");
    Objects.requireNonNull(ipv6Address, "ipv6Address");
    aliases = List.copyOf(Objects.requireNonNull(aliases, "aliases"));
    links = List.copyOf(Objects.requireNonNull(links, "links"));
    driverOpts = Map.copyOf(Objects.requireNonNull(driverOpts, "driverOpts"));
  }

  /**
   * The default endpoint with aliases.
   *
   * @param aliases DNS names of the container on the network
   * @return the endpoint
   */
  public static EndpointConfig withAliases(String... aliases) {
    return new EndpointConfig("", List.of(aliases), List.of(), "", "", Map.of());
  }
}
