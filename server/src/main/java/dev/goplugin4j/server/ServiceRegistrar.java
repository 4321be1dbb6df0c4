package dev.goplugin4j.server;

import io.grpc.BindableService;
import io.grpc.ServerServiceDefinition;

/**
 * Collects the gRPC services of a {@link GrpcServerPlugin}. Service names must be unique within a
 * plugin server; the names {@code plugin.GRPCBroker}, {@code plugin.GRPCController}, {@code
 * plugin.GRPCStdio} and {@code grpc.health.v1.Health} are taken by the server itself.
 *
 * <p>Not thread-safe; only valid during {@link GrpcServerPlugin#register}.
 */
public interface ServiceRegistrar {
  /**
   * Adds a service, typically a generated {@code *ImplBase} subclass.
   *
   * @param service the service; not null
   * @return this registrar
   * @throws IllegalArgumentException if a service of the same name was already added
   */
  ServiceRegistrar addService(BindableService service);

  /**
   * Adds a service definition, e.g. one wrapped with interceptors by {@code
   * ServerInterceptors.intercept(...)}.
   *
   * @param service the service definition; not null
   * @return this registrar
   * @throws IllegalArgumentException if a service of the same name was already added
   */
  ServiceRegistrar addService(ServerServiceDefinition service);
}
