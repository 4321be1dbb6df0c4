package dev.goplugin4j.interop;

/**
 * The Counter interface of plugincontainer's examples/container ({@code plugin-counter}): the
 * plugin keeps no state; it reads and writes the counter through the host's {@link Storage}.
 *
 * <p>Implementations made by {@link StorageCounterPlugin} are thread-safe.
 */
public interface StorageCounter {
  /**
   * Adds {@code value} to the counter {@code key} held in {@code storage}.
   *
   * @param key the counter; not null
   * @param value the increment
   * @param storage served to the plugin through the broker while the call runs; not null
   * @return the new value
   * @throws io.grpc.StatusRuntimeException if the plugin or the storage fails
   */
  long increment(String key, long value, Storage storage);
}
