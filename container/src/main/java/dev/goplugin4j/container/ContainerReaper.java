package dev.goplugin4j.container;

import dev.goplugin4j.container.internal.Engine;
import dev.goplugin4j.container.internal.EngineLocator;
import dev.goplugin4j.container.internal.HostId;
import dev.goplugin4j.container.internal.Labels;
import java.util.ArrayList;
import java.util.List;
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
 * <p><b>Caution: reattached plugins are reaped once their first host is gone.</b> The owner label
 * is set when the container is created and the engine cannot change it, so a container that a
 * second, live host has reattached to still names the first host. When that host has exited
 * (the usual reason to reattach), the container counts as an orphan and {@link #reapOrphans()}
 * stops and removes it under the second host. Reap only when no reattached plugin is in use
 * (for example at start-up, before reattaching), or filter {@link #findOrphans()} by the
 * container IDs of your reattach configs and remove the rest yourself.
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
      return orphans(engine);
    }
  }

  /**
   * Removes orphaned plugin containers (running ones are killed first).
   *
   * @return the IDs removed
   * @throws EngineUnavailableException if no engine answers
   * @throws ContainerException if the engine refuses a removal
   */
  public List<String> reapOrphans() {
    try (Engine engine = new EngineLocator(endpoint, System.getenv()).connect()) {
      List<String> removed = new ArrayList<>();
      for (String id : orphans(engine)) {
        engine.stop(id, 0);
        engine.remove(id);
        LOG.info("removed orphaned plugin container {}", id);
        removed.add(id);
      }
      return removed;
    }
  }

  private static List<String> orphans(Engine engine) {
    List<String> out = new ArrayList<>();
    for (Engine.ContainerSummary c : engine.listByLabel(Labels.MANAGED, "true")) {
      Optional<HostId> owner = HostId.parse(c.labels().get(Labels.OWNER));
      if (owner.isPresent() && owner.get().isAlive().map(alive -> !alive).orElse(false)) {
        out.add(c.id());
      }
    }
    return out;
  }
}
