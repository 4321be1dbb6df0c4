package dev.goplugin4j.host;

import dev.goplugin4j.protocol.GrpcBroker;
import io.grpc.Channel;
import java.util.Objects;

/**
 * The host-side adapter of one plugin service: turns the plugin's gRPC channel (and the broker,
 * for callbacks) into a typed client. The counterpart of go-plugin's {@code
 * GRPCPlugin.GRPCClient}; a user writes one small adapter per service.
 *
 * <pre>{@code
 * GrpcPlugin<KV> kv = (channel, broker) -> new KvClient(KVGrpc.newBlockingStub(channel));
 * }</pre>
 *
 * <p>An adapter that serves several app protocol versions (registered under each with {@link
 * PluginClient.Builder#plugins}) and must behave differently per version gets the version the
 * plugin chose from {@link #versioned}:
 *
 * <pre>{@code
 * GrpcPlugin<Backend> backend = GrpcPlugin.versioned((channel, broker, version) ->
 *     version >= 5 ? new MultiplexedBackend(channel) : new Backend(channel));
 * }</pre>
 *
 * <p>{@link PluginClient#dispense} calls {@link #client(Channel, GrpcBroker, int)}; its default
 * calls {@link #client(Channel, GrpcBroker)}, so an adapter that ignores the version implements
 * only that one. Implementations must be thread-safe; the client is made once per dispense.
 *
 * @param <T> the client type
 */
@FunctionalInterface
public interface GrpcPlugin<T> {
  /**
   * Creates the client.
   *
   * @param channel the connection to the plugin; shared, do not shut it down
   * @param broker the broker for extra connections in either direction
   * @return the client; not null
   */
  T client(Channel channel, GrpcBroker broker);

  /**
   * Creates the client for the app protocol version the plugin chose in the handshake (go-plugin's
   * {@code Client.NegotiatedVersion()}; the same number as {@link PluginClient#negotiatedVersion()}).
   * This is what {@link PluginClient#dispense} calls. The default ignores the version and calls
   * {@link #client(Channel, GrpcBroker)}.
   *
   * @param channel the connection to the plugin; shared, do not shut it down
   * @param broker the broker for extra connections in either direction
   * @param negotiatedVersion the app protocol version of this connection: one of the versions the
   *     host offered, at least 1
   * @return the client; not null
   */
  default T client(Channel channel, GrpcBroker broker, int negotiatedVersion) {
    return client(channel, broker);
  }

  /**
   * An adapter that is told the negotiated app protocol version: register the same adapter under
   * several versions and let it choose per version.
   *
   * @param factory makes the client from the channel, the broker and the negotiated version;
   *     thread-safe; not null
   * @param <T> the client type
   * @return an adapter whose {@link #client(Channel, GrpcBroker, int)} calls the factory; its
   *     two-argument {@link #client(Channel, GrpcBroker)}, which has no version to pass, throws
   *     {@link UnsupportedOperationException}
   */
  static <T> GrpcPlugin<T> versioned(Versioned<T> factory) {
    Objects.requireNonNull(factory, "factory");
    return new GrpcPlugin<T>() {
      @Override
      public T client(Channel channel, GrpcBroker broker) {
        throw new UnsupportedOperationException(
            "this adapter was made with GrpcPlugin.versioned(...) and needs the negotiated protocol"
                + " version: call client(channel, broker, negotiatedVersion), as"
                + " PluginClient.dispense does");
      }

      @Override
      public T client(Channel channel, GrpcBroker broker, int negotiatedVersion) {
        return factory.client(channel, broker, negotiatedVersion);
      }

      @Override
      public String toString() {
        return "GrpcPlugin.versioned(" + factory + ")";
      }
    };
  }

  /**
   * Makes a client knowing the negotiated app protocol version; see {@link #versioned}.
   *
   * @param <T> the client type
   */
  @FunctionalInterface
  interface Versioned<T> {
    /**
     * Creates the client.
     *
     * @param channel the connection to the plugin; shared, do not shut it down
     * @param broker the broker for extra connections in either direction
     * @param negotiatedVersion the app protocol version the plugin chose, at least 1
     * @return the client; not null
     */
    T client(Channel channel, GrpcBroker broker, int negotiatedVersion);
  }
}
