package dev.goplugin4j.host;

import dev.goplugin4j.protocol.GrpcBroker;
import io.grpc.Channel;

/**
 * The host-side adapter of one plugin service: turns the plugin's gRPC channel (and the broker,
 * for callbacks) into a typed client. The counterpart of go-plugin's {@code
 * GRPCPlugin.GRPCClient}; a user writes one small adapter per service.
 *
 * <pre>{@code
 * GrpcPlugin<KV> kv = (channel, broker) -> new KvClient(KVGrpc.newBlockingStub(channel));
 * }</pre>
 *
 * <p>Implementations must be thread-safe; {@link #client} is called once per dispense.
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
}
