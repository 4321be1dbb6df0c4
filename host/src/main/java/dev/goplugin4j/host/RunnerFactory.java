package dev.goplugin4j.host;

import java.nio.file.Path;

/**
 * Makes the runner for one plugin start; the counterpart of go-plugin's {@code
 * ClientConfig.RunnerFunc}. The host creates a private socket directory (mode 0700, or 0770 with
 * the socket group) and passes it in; the plugin is told to create its socket there.
 *
 * <p>Implementations must be thread-safe; the host calls {@link #create} once per start.
 */
@FunctionalInterface
public interface RunnerFactory {
  /**
   * Creates a runner; it must not start anything yet.
   *
   * @param command the command line and environment the host computed
   * @param socketDir the host-side directory for the plugin's Unix sockets; the host deletes it
   *     when the client closes
   * @return a runner, not yet started
   */
  Runner create(PluginCommand command, Path socketDir);

  /**
   * The kind of the runners this factory makes, as their {@link AttachedRunner#kind()}: named in
   * the client's {@link PluginEvent.Source} before a runner exists. Default {@code "custom"}.
   *
   * @return the kind, e.g. {@value ReattachConfig#KIND_CONTAINER}
   */
  default String kind() {
    return "custom";
  }
}
