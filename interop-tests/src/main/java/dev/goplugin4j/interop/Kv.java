package dev.goplugin4j.interop;

/**
 * The KV interface of go-plugin's examples/grpc. The upstream Go plugin stores each value in a
 * file {@code kv_<key>} in its working directory and appends {@code "\n\nWritten from
 * plugin-go-grpc"} on put.
 *
 * <p>Implementations made by {@link KvPlugin} are thread-safe.
 */
public interface Kv {
  /**
   * Stores a value.
   *
   * @param key the key; not null
   * @param value the value; not null
   * @throws io.grpc.StatusRuntimeException if the plugin fails
   */
  void put(String key, byte[] value);

  /**
   * Reads a value.
   *
   * @param key the key; not null
   * @return the stored value
   * @throws io.grpc.StatusRuntimeException if the plugin fails, e.g. there is no such key
   */
  byte[] get(String key);
}
