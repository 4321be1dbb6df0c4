package dev.goplugin4j.host;

import java.io.InputStream;

/**
 * Starts a plugin and gives the host its stdout (the handshake) and stderr (its logs). The
 * counterpart of go-plugin's {@code runner.Runner}: the process runner and the container runner
 * are two implementations, and users may write their own.
 *
 * <p>Lifecycle: the host calls {@link #start()} once, reads {@link #stdout()} for the handshake
 * and {@link #stderr()} for logs, and finally {@link #kill()}. Implementations must be
 * thread-safe.
 */
public interface Runner extends AttachedRunner {
  /**
   * Starts the plugin. After it returns, {@link #stdout()}, {@link #stderr()} and {@link #id()}
   * are available.
   *
   * @throws dev.goplugin4j.protocol.PluginException if the plugin cannot be started; the message
   *     says why
   */
  void start();

  /**
   * Best-effort information that helps a user understand why a plugin failed to start or
   * handshake. Appended to every start failure. Must not throw.
   *
   * @return human-readable text, possibly empty
   */
  String diagnose();

  /**
   * The plugin's stdout; carries the handshake line. Valid after {@link #start()}.
   *
   * @return the stream; reading it past the plugin's exit gives end of stream
   */
  InputStream stdout();

  /**
   * The plugin's stderr; carries its logs. Valid after {@link #start()}.
   *
   * @return the stream; reading it past the plugin's exit gives end of stream
   */
  InputStream stderr();

  /**
   * A human-friendly name, such as the executable's path or the image reference. Not
   * necessarily unique.
   *
   * @return the name
   */
  String name();
}
