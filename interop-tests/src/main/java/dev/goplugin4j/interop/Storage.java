package dev.goplugin4j.interop;

/**
 * The storage callback plugincontainer's example Counter plugin calls on the host, served by the
 * host through the broker for the duration of one {@link StorageCounter#increment}.
 *
 * <p>Implementations must be thread-safe: gRPC may call them from any thread.
 */
public interface Storage {
  /**
   * Reads a value.
   *
   * @param key the key
   * @return the value, 0 when absent (as upstream's example host does)
   */
  long get(String key);

  /**
   * Stores a value.
   *
   * @param key the key
   * @param value the value
   */
  void put(String key, long value);
}
