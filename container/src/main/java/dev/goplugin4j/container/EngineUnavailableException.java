package dev.goplugin4j.container;

import java.util.List;

/**
 * No container engine could be reached. The message lists every place that was tried, in order
 * (an explicit endpoint from {@link ContainerConfig.Builder#engineEndpoint(String)}, or {@code
 * DOCKER_HOST}, {@code /var/run/docker.sock}, {@code $XDG_RUNTIME_DIR/docker.sock}, {@code
 * /run/podman/podman.sock}, {@code $XDG_RUNTIME_DIR/podman/podman.sock}) and why each failed.
 *
 * <p>Instances are immutable and thread-safe.
 */
public class EngineUnavailableException extends ContainerException {
  private static final long serialVersionUID = 1L;

  private final List<String> attempts;

  /**
   * Creates the exception.
   *
   * @param message the summary, including the attempts; not null
   * @param attempts one line per endpoint tried: where and why it failed; not null
   * @param cause the last failure; may be null
   */
  public EngineUnavailableException(String message, List<String> attempts, Throwable cause) {
    super(message, cause);
    this.attempts = List.copyOf(attempts);
  }

  /**
   * Every endpoint that was tried, in order, each with the reason it failed.
   *
   * @return an immutable list, not empty when discovery ran
   */
  public List<String> attempts() {
    return attempts;
  }
}
