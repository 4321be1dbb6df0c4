package dev.goplugin4j.interop;

/**
 * The callback go-plugin's examples/bidirectional Counter plugin calls on the host, served by the
 * host through the broker for the duration of one {@link Counter#put}.
 *
 * <p>Implementations must be thread-safe: gRPC may call them from any thread.
 */
@FunctionalInterface
public interface AddHelper {
  /**
   * Adds two numbers.
   *
   * @param a the first
   * @param b the second
   * @return the sum; an exception thrown here reaches the plugin as a gRPC error
   */
  long sum(long a, long b);
}
