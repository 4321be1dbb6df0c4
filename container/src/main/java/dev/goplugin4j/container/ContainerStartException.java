package dev.goplugin4j.container;

/**
 * The engine refused to create or start the plugin's container (unknown runtime, invalid
 * configuration, the entrypoint cannot be executed...). The message carries the engine's answer,
 * a hint when one is known, and the runner's diagnosis.
 *
 * <p>Instances are immutable and thread-safe.
 */
public class ContainerStartException extends ContainerException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what failed, the engine's answer, and the diagnosis; not null
   * @param cause the engine's error; may be null
   */
  public ContainerStartException(String message, Throwable cause) {
    super(message, cause);
  }
}
