package dev.goplugin4j.container.internal;

import dev.goplugin4j.container.ContainerConfig;
import dev.goplugin4j.container.ContainerException;
import dev.goplugin4j.host.AttachedRunner;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.protocol.NetAddress;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A plugin container started by an earlier host, found again from its ID and the host socket
 * directory: the counterpart of plugincontainer's {@code ReattachFunc}, stricter: the container
 * must carry our label, be running, and have exactly that directory bind-mounted at {@value
 * ContainerConfig#CONTAINER_SOCKET_DIR}.
 */
public final class ReattachedContainer implements AttachedRunner {
  private final Engine engine;
  private final String id;
  private final SocketDirTranslator translator;
  private final int graceSeconds;
  private final CompletableFuture<Integer> exit = new CompletableFuture<>();
  private final Object lock = new Object();
  private boolean killed;

  private ReattachedContainer(Engine engine, String id, Path socketDir, int graceSeconds) {
    this.engine = engine;
    this.id = id;
    this.translator = new SocketDirTranslator(socketDir);
    this.graceSeconds = graceSeconds;
  }

  /**
   * Finds and verifies the container.
   *
   * @throws ContainerException if it is gone, not running, not ours, or not using {@code
   *     socketDir}
   */
  public static ReattachedContainer attach(String endpoint, Map<String, String> environment,
      String containerId, Path socketDir) {
    if (containerId == null || containerId.isEmpty()) {
      throw new IllegalArgumentException("containerId must not be empty");
    }
    Path dir = socketDir.toAbsolutePath().normalize();
    Engine engine = new EngineLocator(endpoint, environment).connect();
    try {
      Optional<ContainerInfo> found = engine.inspect(containerId);
      if (found.isEmpty()) {
        throw new ContainerException("cannot reattach: container " + containerId
            + " not found in the engine at " + engine.endpoint() + " (it exited and was removed)");
      }
      ContainerInfo info = found.get();
      if (!"true".equals(info.labels().get(Labels.MANAGED))) {
        throw new ContainerException("cannot reattach: container " + containerId
            + " has no " + Labels.MANAGED + "=true label, so it was not started by goplugin4j"
            + " (or with ownerLabels(false)); refusing to adopt it");
      }
      if (!info.running()) {
        throw new ContainerException("cannot reattach: container " + containerId + " is "
            + info.status() + " (exit code " + info.exitCode() + "), not running");
      }
      String source = info.bindSource(ContainerConfig.CONTAINER_SOCKET_DIR);
      if (source == null || !Path.of(source).normalize().equals(dir)) {
        throw new ContainerException("cannot reattach: container " + containerId + " mounts "
            + source + " at " + ContainerConfig.CONTAINER_SOCKET_DIR + ", not the socket"
            + " directory " + dir);
      }
      ReattachedContainer r = new ReattachedContainer(engine, info.id(), dir,
          (int) ContainerConfig.DEFAULT_KILL_GRACE.toSeconds());
      engine.waitForExit(info.id(), false)
          .whenComplete((status, err) -> r.exit.complete(err == null ? status.intValue() : -1));
      return r;
    } catch (RuntimeException e) {
      engine.close();
      throw e;
    }
  }

  @Override
  public CompletableFuture<Integer> onExit() {
    return exit;
  }

  @Override
  public void kill() {
    synchronized (lock) {
      if (killed) {
        return;
      }
      killed = true;
    }
    try {
      ContainerLifecycle.stopAndRemove(engine, id, graceSeconds);
      try {
        exit.get(2, TimeUnit.SECONDS);
      } catch (Exception e) {
        exit.complete(-1);
      }
    } finally {
      engine.close();
      exit.complete(-1);
    }
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public String kind() {
    return ReattachConfig.KIND_CONTAINER;
  }

  @Override
  public Map<String, String> reattachAttributes() {
    return Map.of(ContainerRunner.ATTR_SOCKET_DIR, translator.hostDir().toString(),
        ContainerRunner.ATTR_ENGINE, engine.endpoint());
  }

  @Override
  public NetAddress pluginToHost(NetAddress pluginAddress) {
    return translator.pluginToHost(pluginAddress);
  }

  @Override
  public NetAddress hostToPlugin(NetAddress hostAddress) {
    return translator.hostToPlugin(hostAddress);
  }
}
