package dev.goplugin4j.container.internal;

import dev.goplugin4j.container.ContainerException;

/**
 * The engine answered a request with an error status, or could not be reached. {@link #status()}
 * is the HTTP status, 0 when there was no answer. Callers decide by status, never by message.
 */
public final class EngineException extends ContainerException {
  private static final long serialVersionUID = 1L;

  private final int status;

  EngineException(String message, int status, Throwable cause) {
    super(message, cause);
    this.status = status;
  }

  /** The HTTP status, 0 when the engine did not answer. */
  public int status() {
    return status;
  }
}
