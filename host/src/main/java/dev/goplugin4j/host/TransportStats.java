package dev.goplugin4j.host;

/**
 * A live, read-only view of the bytes a client's multiplexed connection to its plugin carries
 * ({@link PluginClient.Builder#multiplexBroker(boolean) multiplexBroker(true)}: one connection,
 * every gRPC connection, main and brokered, a yamux stream on it). Counts are yamux frames,
 * 12-byte headers and payloads (TLS records included under AutoMTLS), as handed to and read from
 * the connection. Counting costs an uncontended add per frame on the connection's event loop.
 *
 * <p>Get it from {@link PluginClient#transportStats()}. The counts start at 0 before the client
 * connects, only grow, and stay readable, final, once the connection is closed ({@link
 * #finished()}). Thread-safe.
 */
public interface TransportStats {
  /**
   * The plugin these bytes are about, as the client's events name it (so a metric can use the
   * same tags).
   *
   * @return the client's event source
   */
  PluginEvent.Source source();

  /**
   * Bytes written to the plugin so far.
   *
   * @return a count from 0 that only grows
   */
  long bytesSent();

  /**
   * Bytes read from the plugin so far.
   *
   * @return a count from 0 that only grows
   */
  long bytesReceived();

  /**
   * Whether the connection is gone (the client was closed, killed or detached, or its start
   * failed), so that the counts are final.
   *
   * @return true once the counts no longer change
   */
  boolean finished();
}
