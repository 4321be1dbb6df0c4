package dev.goplugin4j.container.internal;

import dev.goplugin4j.container.ContainerConfig;
import dev.goplugin4j.container.ContainerException;
import dev.goplugin4j.container.ImageNotFoundException;
import dev.goplugin4j.container.Sha256MismatchException;
import java.util.List;

/**
 * Image check phase of {@link ContainerRunner}: with a SHA256 pin configured, the named image
 * must be present in the engine with exactly that id before a container is created from it. The
 * runner never pulls.
 *
 * <p>Stateless and thread-safe: static functions only.
 */
final class ImagePin {
  private ImagePin() {}

  /**
   * Checks that {@code config.namedRef()} is present in the engine with id {@code
   * sha256:<config.sha256()>}.
   *
   * @throws ImageNotFoundException if no image of that name is present
   * @throws Sha256MismatchException if none of them has the pinned id
   * @throws ContainerException if the engine cannot list images
   */
  static void verify(ContainerConfig config, Engine e) {
    String named = config.namedRef();
    List<String> ids;
    try {
      ids = e.imageIds(named);
    } catch (EngineException ex) {
      throw new ContainerException("failed to verify that image " + named
          + " matches the pinned SHA256 " + config.sha256() + ": " + ex.getMessage(), ex);
    }
    if (ids.isEmpty()) {
      throw new ImageNotFoundException(
          "no image named " + named + " is present in the engine at " + e.endpoint()
              + ", so the pinned SHA256 " + config.sha256() + " cannot be verified; the runner"
              + " never pulls: build, load or pull it first", named, null);
    }
    if (!ids.contains("sha256:" + config.sha256())) {
      throw new Sha256MismatchException(config.image(), config.tag(), config.sha256(), ids);
    }
  }
}
