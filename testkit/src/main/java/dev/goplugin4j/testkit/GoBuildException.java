package dev.goplugin4j.testkit;

/**
 * A Go peer could not be built: the Go toolchain is missing or too old, the module proxy could not
 * be reached, or {@code go build} failed. The message names the peer, the command and the
 * directory, and carries the output of {@code go} so the cause is visible in the test report.
 *
 * <p>Tests never skip because of it: a peer that cannot be built is a test failure.
 *
 * <p>Instances are immutable and thread-safe.
 */
public class GoBuildException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception with a message.
   *
   * @param message what failed and how to fix it; not null
   */
  public GoBuildException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a message and a cause.
   *
   * @param message what failed and how to fix it; not null
   * @param cause the underlying failure; may be null
   */
  public GoBuildException(String message, Throwable cause) {
    super(message, cause);
  }
}
