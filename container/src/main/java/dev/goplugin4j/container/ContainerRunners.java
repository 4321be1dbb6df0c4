package dev.goplugin4j.container;

import dev.goplugin4j.container.internal.ContainerRunner;
import dev.goplugin4j.container.internal.ReattachedContainer;
import dev.goplugin4j.host.AttachedRunner;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.host.Reattacher;
import dev.goplugin4j.host.RunnerFactory;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Entry points of the container runner besides {@link ContainerConfig} itself: a {@link
 * RunnerFactory}, reattaching to running plugin containers (the counterpart of plugincontainer's
 * {@code ReattachFunc}), and the attributes a host records so a later host can reattach.
 *
 * <pre>{@code
 * // a later host, from the ReattachConfig the first host's PluginClient recorded:
 * PluginClient client = PluginClient.builder()...
 *     .reattach(ReattachConfig.fromJson(json), ContainerRunners.reattacher()).build();
 * }</pre>
 *
 * <p>All methods are thread-safe.
 */
public final class ContainerRunners {
  /** Reattach attribute: the host socket directory bind-mounted into the container. */
  public static final String ATTR_SOCKET_DIR = ContainerRunner.ATTR_SOCKET_DIR;

  /** Reattach attribute: the engine endpoint the container runs on. */
  public static final String ATTR_ENGINE = ContainerRunner.ATTR_ENGINE;

  /**
   * Reattach attribute: the first host's {@link ContainerConfig#killGrace()} in whole seconds (0
   * to 60), used when the reattached container is killed. Optional: configs recorded before it
   * existed, or without it, get {@link ContainerConfig#DEFAULT_KILL_GRACE}.
   */
  public static final String ATTR_KILL_GRACE_SECONDS = ContainerRunner.ATTR_KILL_GRACE_SECONDS;

  private ContainerRunners() {}

  /**
   * The runner factory for a configuration (the configuration itself).
   *
   * @param config the configuration; not null
   * @return a factory creating one container runner per plugin start
   */
  public static RunnerFactory factory(ContainerConfig config) {
    return Objects.requireNonNull(config, "config");
  }

  /**
   * Reattaches to a running plugin container, discovering the engine as {@link ContainerConfig}
   * does. The container must carry the runner's {@code dev.goplugin4j.managed} label, be
   * running, and have {@code socketDir} mounted at {@value ContainerConfig#CONTAINER_SOCKET_DIR}.
   * {@link AttachedRunner#kill()} stops and removes it.
   *
   * @param containerId the container ID (or a unique prefix, or name); not empty
   * @param socketDir the host socket directory of the plugin; not null
   * @return the attached container
   * @throws ContainerException if it is gone, not running, not ours or not using {@code
   *     socketDir}; {@link EngineUnavailableException} if no engine answers
   */
  public static AttachedRunner reattach(String containerId, Path socketDir) {
    return ReattachedContainer.attach(null, System.getenv(), containerId,
        Objects.requireNonNull(socketDir, "socketDir"));
  }

  /**
   * As {@link #reattach(String, Path)}, on an explicit engine endpoint.
   *
   * @param containerId the container ID; not empty
   * @param socketDir the host socket directory; not null
   * @param engineEndpoint a {@code unix://} or {@code tcp://} URI; not null
   * @return the attached container
   */
  public static AttachedRunner reattach(String containerId, Path socketDir,
      String engineEndpoint) {
    Objects.requireNonNull(engineEndpoint, "engineEndpoint");
    return ReattachedContainer.attach(engineEndpoint, System.getenv(), containerId,
        Objects.requireNonNull(socketDir, "socketDir"));
  }

  /**
   * A {@link Reattacher} for {@link ReattachConfig}s of kind {@value
   * ReattachConfig#KIND_CONTAINER}: the runner id is the container ID, and the attributes hold
   * {@value #ATTR_SOCKET_DIR} and optionally {@value #ATTR_ENGINE} and {@value
   * #ATTR_KILL_GRACE_SECONDS}. The attached runner's {@link AttachedRunner#release()} closes its
   * engine connection and leaves the container running.
   *
   * @return the reattacher; stateless and thread-safe
   */
  public static Reattacher reattacher() {
    return config -> {
      if (!ReattachConfig.KIND_CONTAINER.equals(config.runnerKind())) {
        throw new ContainerException("the container reattacher cannot reattach a runner of kind \""
            + config.runnerKind() + "\"");
      }
      String dir = config.runnerAttributes().get(ATTR_SOCKET_DIR);
      if (dir == null || dir.isEmpty()) {
        throw new ContainerException("reattach config of container " + config.runnerId()
            + " lacks the attribute \"" + ATTR_SOCKET_DIR + "\" (the host socket directory)");
      }
      return ReattachedContainer.attach(config.runnerAttributes().get(ATTR_ENGINE),
          System.getenv(), config.runnerId(), Path.of(dir),
          killGraceSeconds(config.runnerId(),
              config.runnerAttributes().get(ATTR_KILL_GRACE_SECONDS)));
    };
  }

  /** The recorded grace, or the default when the attribute is absent. */
  static int killGraceSeconds(String containerId, String recorded) {
    if (recorded == null || recorded.isEmpty()) {
      return (int) ContainerConfig.DEFAULT_KILL_GRACE.toSeconds();
    }
    int seconds;
    try {
      seconds = Integer.parseInt(recorded.strip());
    } catch (NumberFormatException e) {
      seconds = -1;
    }
    if (seconds < 0 || seconds > 60) {
      throw new ContainerException("reattach config of container " + containerId + " has the"
          + " attribute \"" + ATTR_KILL_GRACE_SECONDS + "\"=\"" + recorded + "\", not a whole"
          + " number of seconds from 0 to 60; fix it or remove it to use the default "
          + ContainerConfig.DEFAULT_KILL_GRACE.toSeconds() + " s");
    }
    return seconds;
  }

}
