package dev.goplugin4j.server;

import dev.goplugin4j.protocol.GrpcBroker;

/**
 * The plugin side of one plugin service: registers the gRPC services that implement it. The
 * counterpart of go-plugin's {@code GRPCPlugin.GRPCServer(broker, server)}; the host side uses a
 * {@code GrpcPlugin} adapter for the same service.
 *
 * <pre>{@code
 * GrpcServerPlugin kv = (services, broker) -> services.addService(new KvService());
 * }</pre>
 *
 * <p>{@link #register} is called once, on the thread that called {@link PluginServer#serve},
 * before the handshake line is printed. Keep the broker if the services need callbacks: it stays
 * usable until the server stops. Implementations need no thread-safety of their own for
 * registration; the services they register are called concurrently by gRPC.
 */
@FunctionalInterface
public interface GrpcServerPlugin {
  /**
   * Registers this plugin's services.
   *
   * @param services where to add the services; valid only during this call
   * @param broker the broker, to dial services the host offers (callbacks) or to offer more
   *     services of the plugin's own; valid until the server stops
   * @throws Exception any failure; the server does not start and {@link PluginServer#serve}
   *     throws a {@link PluginServeException} naming this plugin
   */
  void register(ServiceRegistrar services, GrpcBroker broker) throws Exception;
}
