package dev.goplugin4j.protocol;

import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.ServerServiceDefinition;
import java.util.List;

/**
 * go-plugin's gRPC broker, seen from either side: lets host and plugin offer each other extra
 * gRPC services (callbacks) on connections identified by a numeric id. One side calls {@link
 * #nextId()} and {@link #acceptAndServe(int, List)}, sends the id to the other side inside its own
 * RPC, and the other side calls {@link #dial(int)}.
 *
 * <p>The same API serves both modes: without multiplexing each brokered connection is a new socket
 * (its address travels over {@code plugin.GRPCBroker/StartStream}); with the multiplexed broker it
 * is a new yamux stream on the one connection, announced by a knock. User code does not change.
 *
 * <p>Thread-safe. Closing the client or server that owns the broker closes every brokered server
 * and channel it made.
 */
public interface GrpcBroker {
  /**
   * Reserves a fresh connection id, unique for this broker.
   *
   * @return a positive id
   */
  int nextId();

  /**
   * Starts serving {@code services} on a new brokered connection with the given id and tells the
   * other side where to find it. Returns at once; the server runs until closed or until the broker
   * closes.
   *
   * @param id an id from {@link #nextId()}
   * @param services {@link BindableService} or {@link ServerServiceDefinition} instances; not empty
   * @return a handle that stops the server and frees the id when closed
   * @throws PluginException if the broker is closed or the listener cannot be created
   */
  BrokeredServer acceptAndServe(int id, List<?> services);

  /**
   * Connects to a service the other side offers under {@code id}. Waits up to 5 s for the other
   * side to announce it.
   *
   * @param id the id the other side sent
   * @return a channel; the caller may close it, and the broker closes it when the broker closes
   * @throws PluginException if nothing is offered under that id within the timeout, or the broker
   *     is closed
   */
  ManagedChannel dial(int id);

  /** A brokered server; {@link #close()} stops it and frees its id. Idempotent. */
  interface BrokeredServer extends AutoCloseable {
    /**
     * The id the server answers on.
     *
     * @return the id
     */
    int id();

    /** Stops serving and frees the id; idempotent. */
    @Override
    void close();
  }
}
