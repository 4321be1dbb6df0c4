package dev.goplugin4j.container.internal;

import dev.goplugin4j.container.ContainerException;

/** Stop-and-remove shared by started and reattached containers. */
final class ContainerLifecycle {
  private ContainerLifecycle() {}

  /**
   * Stops the container with a grace period, then removes it (also when the engine keeps it
   * because it was started in debug mode). A container already gone is success: the engine's
   * 404 is recognised by type in {@link Engine#stop} and {@link Engine#remove}.
   *
   * @throws ContainerException if the engine refuses
   */
  static void stopAndRemove(Engine engine, String id, int graceSeconds) {
    try {
      engine.stop(id, graceSeconds);
      engine.remove(id);
    } catch (EngineException e) {
      throw new ContainerException("could not stop and remove plugin container "
          + DockerJavaEngine.shortId(id) + ": " + e.getMessage()
          + "; remove it with `docker rm -f " + id + "`", e);
    }
  }
}
