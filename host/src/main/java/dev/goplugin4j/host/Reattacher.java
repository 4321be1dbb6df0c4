package dev.goplugin4j.host;

/**
 * Re-acquires a running plugin from a {@link ReattachConfig}: the counterpart of go-plugin's
 * {@code ReattachFunc}. The host uses its built-in process reattacher for configs of kind {@value
 * ReattachConfig#KIND_PROCESS}; other runners (the container runner) provide their own.
 *
 * <p>Implementations must be thread-safe.
 */
@FunctionalInterface
public interface Reattacher {
  /**
   * Finds the running plugin.
   *
   * @param config what the earlier host recorded
   * @return a runner attached to it
   * @throws dev.goplugin4j.protocol.PluginException if it is gone or is not the same plugin
   */
  AttachedRunner reattach(ReattachConfig config);
}
