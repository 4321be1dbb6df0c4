package dev.goplugin4j.interop;

/**
 * The Counter interface of go-plugin's examples/bidirectional. The upstream Go plugin keeps each
 * counter in a file {@code kv_<key>} in its working directory; {@link #put} makes it call back the
 * host's {@link AddHelper} to add the stored value and the increment.
 *
 * <p>Implementations made by {@link CounterPlugin} are thread-safe.
 */
public interface Counter {
  /**
   * Adds {@code value} to the counter {@code key}, the plugin calling {@code adder} for the sum.
   *
   * @param key the counter; not null
   * @param value the increment
   * @param adder served to the plugin through the broker while the call runs; not null
   * @throws io.grpc.StatusRuntimeException if the plugin fails
   */
  void put(String key, long value, AddHelper adder);

  /**
   * Reads a counter.
   *
   * @param key the counter; not null
   * @return its value
   * @throws io.grpc.StatusRuntimeException if the plugin fails, e.g. the counter does not exist
   */
  long get(String key);

  /**
   * {@link #put} then {@link #get}: increments the counter and returns its new value.
   *
   * @param key the counter; not null
   * @param value the increment
   * @param adder the callback; not null
   * @return the new value
   */
  default long increment(String key, long value, AddHelper adder) {
    put(key, value, adder);
    return get(key);
  }
}
