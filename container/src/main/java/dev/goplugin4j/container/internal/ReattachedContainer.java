package dev.goplugin4j.container.internal;

import dev.goplugin4j.container.ContainerConfig;
import dev.goplugin4j.container.ContainerException;
import dev.goplugin4j.host.AttachedRunner;
import dev.goplugin4j.host.ReattachConfig;
import dev.goplugin4j.protocol.NetAddress;
import dev.goplugin4j.protocol.internal.broker.AddressRules;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A plugin container started by an earlier host, found again from its ID and the host socket
 * directory: the counterpart of plugincontainer's {@code ReattachFunc}, stricter: the container
 * must carry our label, be running, and have exactly that directory bind-mounted at {@value
 * ContainerConfig#CONTAINER_SOCKET_DIR}. Attaching records this host in the container's {@link
 * HostClaims}, so the reaper leaves it alone while this host lives. Kill stops it with the first
 * host's kill grace (when the reattach attributes carry it), removes it and its claims; release
 * (a detach) only closes this JVM's connection and exit wait.
 *
 * <p>The socket directory must be one goplugin4j makes ({@link AddressRules#checkOwnSocketDir}:
 * named {@code goplugin4j-<digits>}, a real directory owned by this user), checked before the
 * engine is contacted; the plugin's address in the reattach config is checked by the host against
 * that directory ({@link AddressRules}), and addresses translated later by {@link
 * SocketDirTranslator}.
 */
public final class ReattachedContainer implements AttachedRunner {
  private final Engine engine;
  private final String id;
  private final SocketDirTranslator translator;
  private final int graceSeconds;
  private final CompletableFuture<Integer> exit = new CompletableFuture<>();
  private final Object lock = new Object();
  private boolean killed;
  private boolean released;

  private ReattachedContainer(Engine engine, String id, Path socketDir, int graceSeconds) {
    this.engine = engine;
    this.id = id;
    this.translator = new SocketDirTranslator(socketDir);
    this.graceSeconds = graceSeconds;
  }

  /**
   * Finds and verifies the container; kill uses the default grace {@link
   * ContainerConfig#DEFAULT_KILL_GRACE}.
   *
   * @throws ContainerException if it is gone, not running, not ours, or not using {@code
   *     socketDir}
   */
  public static ReattachedContainer attach(String endpoint, Map<String, String> environment,
      String containerId, Path socketDir) {
    return attach(endpoint, environment, containerId, socketDir,
        (int) ContainerConfig.DEFAULT_KILL_GRACE.toSeconds());
  }

  /**
   * Finds and verifies the container.
   *
   * @param graceSeconds how long kill waits after SIGTERM before SIGKILL, 0 to 60
   * @throws ContainerException if it is gone, not running, not ours, or not using {@code
   *     socketDir}
   * @throws dev.goplugin4j.protocol.AddressRefusedException if {@code socketDir} is not a socket
   *     directory goplugin4j made
   */
  public static ReattachedContainer attach(String endpoint, Map<String, String> environment,
      String containerId, Path socketDir, int graceSeconds) {
    if (graceSeconds < 0 || graceSeconds > 60) {
      throw new IllegalArgumentException("graceSeconds must be 0 to 60, got " + graceSeconds);
    }
    if (containerId == null || containerId.isEmpty()) {
      throw new IllegalArgumentException("containerId must not be empty");
    }
    Path dir = socketDir.toAbsolutePath().normalize();
    // the directory decides which sockets the host dials: only one this library makes, before the
    // engine is asked anything (a hand-edited config must not steer the host anywhere)
    AddressRules.checkOwnSocketDir(socketDir.toString(), "the socket directory of container "
        + containerId);
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
      ReattachedContainer r = new ReattachedContainer(engine, info.id(), dir, graceSeconds);
      // the owner label names the first host; tell the reaper that this one uses it now
      HostClaims.claim(dir, HostId.current());
      engine.waitForExit(info.id(), false).whenComplete((status, err) -> {
        synchronized (r.lock) {
          if (r.released) {
            return; // the wait was cut by release(); the plugin runs on
          }
        }
        r.exit.complete(err == null ? status.intValue() : -1);
      });
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
      if (killed || released) {
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
      HostClaims.removeAll(translator.hostDir());
    }
  }

  /** Closes the engine connection (which ends the exit wait) and leaves the container running. */
  @Override
  public void release() {
    synchronized (lock) {
      if (killed || released) {
        return;
      }
      released = true;
    }
    engine.close();
  }

  /** The kill grace in seconds. */
  int graceSeconds() {
    return graceSeconds;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public String kind() {
    return ReattachConfig.KIND_CONTAINER;
  }

  /** What the container's exit status usually means (the engine is not asked: no OOM flag). */
  @Override
  public String describeExit(int status) {
    return status < 0 ? "" : ExitHints.describe(status, false);
  }

  @Override
  public Map<String, String> reattachAttributes() {
    return Map.of(ContainerRunner.ATTR_SOCKET_DIR, translator.hostDir().toString(),
        ContainerRunner.ATTR_ENGINE, engine.endpoint(),
        ContainerRunner.ATTR_KILL_GRACE_SECONDS, Integer.toString(graceSeconds));
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
