package dev.goplugin4j.container.internal;

import static dev.goplugin4j.container.internal.EngineTransport.JSON;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.goplugin4j.container.EndpointConfig;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Create phase of {@link DockerJavaEngine}: maps a {@link ContainerSpec} to the Engine API's
 * {@code ContainerCreateRequest} body, including what docker-java 3.5.3 cannot express (a bind
 * mount with {@code NonRecursive}, {@code NetworkingConfig}).
 *
 * <p>Stateless and thread-safe: static functions only.
 */
final class ContainerCreateBody {
  private ContainerCreateBody() {}

  /** The Engine API {@code ContainerCreateRequest} body. */
  static ObjectNode of(ContainerSpec s) {
    ObjectNode c = JSON.createObjectNode();
    c.put("Image", s.image());
    strings(c.putArray("Env"), s.env());
    if (s.entrypoint() != null) {
      strings(c.putArray("Entrypoint"), s.entrypoint());
    }
    if (s.cmd() != null) {
      strings(c.putArray("Cmd"), s.cmd());
    }
    c.put("AttachStdin", false);
    c.put("AttachStdout", true);
    c.put("AttachStderr", true);
    c.put("OpenStdin", false);
    c.put("Tty", false);
    c.put("NetworkDisabled", s.networkDisabled());
    ObjectNode labels = c.putObject("Labels");
    new TreeMap<>(s.labels()).forEach(labels::put);

    ObjectNode h = c.putObject("HostConfig");
    if (s.networkDisabled()) {
      // Podman's compatible API ignores NetworkDisabled (the container would get a network, and
      // rootless a slirp4netns); NetworkMode none is honoured by Docker and Podman alike.
      h.put("NetworkMode", "none");
    }
    h.put("AutoRemove", s.autoRemove());
    h.putObject("RestartPolicy").put("Name", "no");
    if (!s.runtime().isEmpty()) {
      h.put("Runtime", s.runtime());
    }
    h.put("NanoCpus", s.nanoCpus());
    h.put("Memory", s.memory());
    if (!s.cgroupParent().isEmpty()) {
      h.put("CgroupParent", s.cgroupParent());
    }
    strings(h.putArray("CapDrop"), s.capDrop());
    if (!s.capAdd().isEmpty()) {
      strings(h.putArray("CapAdd"), s.capAdd());
    }
    if (!s.groupAdd().isEmpty()) {
      strings(h.putArray("GroupAdd"), s.groupAdd());
    }
    if (!s.securityOpt().isEmpty()) {
      strings(h.putArray("SecurityOpt"), s.securityOpt());
    }
    if (s.pidsLimit() > 0) {
      h.put("PidsLimit", s.pidsLimit());
    }
    h.put("ReadonlyRootfs", s.readOnlyRootFs());
    if (!s.tmpfs().isEmpty()) {
      ObjectNode t = h.putObject("Tmpfs");
      s.tmpfs().forEach(t::put);
    }
    ObjectNode mount = h.putArray("Mounts").addObject();
    mount.put("Type", "bind");
    mount.put("Source", s.bindSource());
    mount.put("Target", s.bindTarget());
    mount.put("ReadOnly", false);
    mount.put("Consistency", "default");
    ObjectNode bind = mount.putObject("BindOptions");
    // Private propagation, and only this directory: nothing mounted below it on the host
    // becomes visible in the container.
    bind.put("Propagation", "private");
    bind.put("NonRecursive", true);

    if (!s.endpoints().isEmpty()) {
      ObjectNode eps = c.putObject("NetworkingConfig").putObject("EndpointsConfig");
      for (Map.Entry<String, EndpointConfig> e : new TreeMap<>(s.endpoints()).entrySet()) {
        EndpointConfig ep = e.getValue();
        ObjectNode n = eps.putObject(e.getKey());
        if (!ep.networkId().isEmpty()) {
          n.put("NetworkID", ep.networkId());
        }
        if (!ep.aliases().isEmpty()) {
          strings(n.putArray("Aliases"), ep.aliases());
        }
        if (!ep.links().isEmpty()) {
          strings(n.putArray("Links"), ep.links());
        }
        if (!ep.ipv4Address().isEmpty() || !ep.ipv6Address().isEmpty()) {
          ObjectNode ipam = n.putObject("IPAMConfig");
          if (!ep.ipv4Address().isEmpty()) {
            ipam.put("IPv4Address", ep.ipv4Address());
          }
          if (!ep.ipv6Address().isEmpty()) {
            ipam.put("IPv6Address", ep.ipv6Address());
          }
        }
        if (!ep.driverOpts().isEmpty()) {
          ObjectNode o = n.putObject("DriverOpts");
          new TreeMap<>(ep.driverOpts()).forEach(o::put);
        }
      }
    }
    return c;
  }

  private static void strings(ArrayNode a, List<String> values) {
    values.forEach(a::add);
  }
}
