package dev.goplugin4j.container;

import dev.goplugin4j.container.internal.Engine;
import dev.goplugin4j.container.internal.EngineLocator;
import dev.goplugin4j.container.internal.HostClaims;
import dev.goplugin4j.container.internal.HostId;
import dev.goplugin4j.container.internal.Labels;
import dev.goplugin4j.host.ProcessReaper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds and removes plugin containers left behind by hosts that are gone (crashed, killed): those
 * labelled {@code dev.goplugin4j.managed=true} whose {@code dev.goplugin4j.owner} names a host
 * process on this machine that no longer runs (the pid is gone, or now belongs to a process
 * started at another time). Containers of hosts on other machines sharing the engine, and of live
 * hosts, are left alone. Runs only when asked.
 *
 * <p><b>Reattached plugins.</b> The owner label is set when the container is created and the
 * engine cannot change it, so a container that a second host has reattached to still names the
 * first host. A reattaching host therefore records itself beside the container's socket
 * directory ({@code <socket dir>.hosts/}, outside the bind mount, so the plugin cannot touch it),
 * and a container is an orphan only when its owner <em>and</em> every host recorded there are
 * gone. The reaper must be able to read that directory (run it as the hosts' user or root); if it
 * cannot, it goes by the owner label alone.
 *
 * <pre>{@code
 * List<String> removed = ContainerReaper.create().reapOrphans();
 * }</pre>
 *
 * <p>Immutable and thread-safe; each call opens and closes its own engine connection.
 */
public final class ContainerReaper {
  private static final Logger LOG = LoggerFactory.getLogger(ContainerReaper.class);

  private final String endpoint;

  private ContainerReaper(String endpoint) {
    this.endpoint = endpoint;
  }

  /**
   * A reaper on the discovered engine (as {@link ContainerConfig} discovers it).
   *
   * @return the reaper
   */
  public static ContainerReaper create() {
    return new ContainerReaper(null);
  }

  /**
   * A reaper on an explicit engine.
   *
   * @param engineEndpoint a {@code unix://} or {@code tcp://} URI; not null
   * @return the reaper
   */
  public static ContainerReaper create(String engineEndpoint) {
    return new ContainerReaper(Objects.requireNonNull(engineEndpoint, "engineEndpoint"));
  }

  /**
   * The IDs of orphaned plugin containers, without removing them.
   *
   * @return container IDs
   * @throws EngineUnavailableException if no engine answers
   */
  public List<String> findOrphans() {
    try (Engine engine = new EngineLocator(endpoint, System.getenv()).connect()) {
      return List.copyOf(orphans(engine).keySet());
    }
  }

  /**
   * Removes orphaned plugin containers (running ones are killed first), and with each what its
   * dead host left on this machine: the socket directory bind-mounted into it ({@code
   * goplugin4j-<digits>}, deleted without following links, through {@link
   * ProcessReaper#removeSocketDir}), its owner record and the reattach claims beside it ({@code
   * <dir>.hosts/}). A socket directory this user may not delete is left, and logged.
   *
   * @return the IDs removed
   * @throws EngineUnavailableException if no engine answers
   * @throws ContainerException if the engine refuses a removal
   */
  public List<String> reapOrphans() {
    try (Engine engine = new EngineLocator(endpoint, System.getenv()).connect()) {
      List<String> removed = new ArrayList<>();
      for (Map.Entry<String, Optional<Path>> orphan : orphans(engine).entrySet()) {
        String id = orphan.getKey();
        engine.stop(id, 0);
        engine.remove(id);
        orphan.getValue().ifPresent(dir -> {
          HostClaims.removeAll(dir);
          ProcessReaper.removeSocketDir(dir);
        });
        LOG.info("removed orphaned plugin container {}{}", id,
            orphan.getValue().map(d -> " and its socket directory " + d).orElse(""));
        removed.add(id);
      }
      return removed;
    }
  }

  /** The orphans' IDs, in the engine's order, each with its socket directory if it has one. */
  private static Map<String, Optional<Path>> orphans(Engine engine) {
    Map<String, Optional<Path>> out = new LinkedHashMap<>();
    for (Engine.ContainerSummary c : engine.listByLabel(Labels.MANAGED, "true")) {
      Optional<HostId> owner = HostId.parse(c.labels().get(Labels.OWNER));
      if (owner.isEmpty() || !owner.get().isAlive().map(alive -> !alive).orElse(false)) {
        continue;
      }
      Optional<Path> socketDir = socketDir(engine, c.id());
      List<HostId> users = socketDir.map(HostClaims::liveClaimants).orElse(List.of());
      if (users.isEmpty()) {
        out.put(c.id(), socketDir);
      } else {
        LOG.debug("container {}: owner {} is gone, but {} reattached to it and runs", c.id(),
            owner.get(), users);
      }
    }
    return out;
  }

  /** The host directory bind-mounted as the container's socket directory, if any. */
  private static Optional<Path> socketDir(Engine engine, String id) {
    return engine.inspect(id)
        .map(info -> info.bindSource(ContainerConfig.CONTAINER_SOCKET_DIR))
        .map(Path::of);
  }
}
